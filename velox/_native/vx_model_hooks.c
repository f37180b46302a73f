/*
 * vx_model_hooks.c: the vx_model_* functions vx_atomic.h calls in the model
 * build, and the unwinding of C frames when the explorer ends an execution
 * (see vx_model_rt.h). Compiled without instrumentation.
 */
#include "vx_model_rt.h"

#include <string.h>

#include "vx_atomic.h" /* the vx_model_* prototypes */

/* The innermost entry trampoline of this thread (NULL outside C code entered
 * from Python), and whether the explorer asked this thread to unwind. Plain
 * thread-locals: only the owning thread reads or writes them. */
static __thread jmp_buf *vx_entry;
static __thread int vx_aborting;

jmp_buf *vx_model_enter(jmp_buf *jb) {
    jmp_buf *previous = vx_entry;
    vx_entry = jb;
    vx_aborting = 0;
    return previous;
}

void vx_model_leave(jmp_buf *previous) {
    vx_entry = previous;
    vx_aborting = 0;
}

void vx_model_abort(void) { vx_aborting = 1; }

int vx_model_in_entry(void) { return vx_entry != NULL; }

void vx_model_unwind_if_aborting(void) {
    /* Without a trampoline (C reached some other way) the hook's return value
     * is chosen so that C loops end, and Python raises on return. */
    if (vx_aborting && vx_entry != NULL) longjmp(*vx_entry, 1);
}

void vx_model_init(void *addr, uint64_t value, int is_signed, const char *name, const char *file, int line) {
    /* The atomic's storage is written here, not by the (instrumented) caller,
     * so the initialisation is not also seen as a plain access. */
    memcpy(addr, &value, sizeof value);
    vx_py_init(addr, value, is_signed, name, file, line);
    vx_model_unwind_if_aborting();
}

uint64_t vx_model_load(void *addr, int order, const char *file, int line) {
    uint64_t v = vx_py_load(addr, order, file, line);
    vx_model_unwind_if_aborting();
    return v;
}

void vx_model_store(void *addr, uint64_t value, int order, const char *file, int line) {
    vx_py_store(addr, value, order, file, line);
    vx_model_unwind_if_aborting();
}

uint64_t vx_model_rmw(void *addr, int kind, uint64_t operand, int order, const char *file, int line) {
    uint64_t v = vx_py_rmw(addr, kind, operand, order, file, line);
    vx_model_unwind_if_aborting();
    return v;
}

int vx_model_cas(void *addr, uint64_t *expected, uint64_t desired, int weak, int succ, int fail, const char *file,
                 int line) {
    int ok = vx_py_cas(addr, expected, desired, weak, succ, fail, file, line);
    vx_model_unwind_if_aborting();
    return ok;
}

void vx_model_fence(int order, const char *file, int line) {
    vx_py_fence(order, file, line);
    vx_model_unwind_if_aborting();
}

/* The C part of a spinning thread's state: the bytes of its stack between
 * this call and the entry trampoline's jump buffer (every C frame of the
 * loop, with the callee-saved registers spilled by vx_model_spin). Equal
 * bytes at two spin hints, with equal reads, prove that the iteration changed
 * nothing in C (memory behind pointers is the shared structure, whose
 * accesses the explorer records); the explorer then treats the loop as
 * waiting. Larger stacks are not compared. */
#define VX_SPIN_STATE_MAX 65536

static __attribute__((noinline)) void vx_spin_with_state(const char *file, int line) {
    volatile char probe = 0;
    const char *lo = (const char *)&probe;
    const char *hi = (const char *)vx_entry;
    size_t size = 0;
    if (vx_entry != NULL && hi > lo && (size_t)(hi - lo) <= VX_SPIN_STATE_MAX) size = (size_t)(hi - lo);
    vx_py_spin(file, line, size ? lo : NULL, size);
}

void vx_model_spin(const char *file, int line) {
    __builtin_unwind_init(); /* spill the callee-saved registers: the loop's state is all in memory */
    vx_spin_with_state(file, line);
    vx_model_unwind_if_aborting();
}

void vx_model_cell(void *addr, size_t size, int is_write, const char *expr, const char *file, int line) {
    vx_py_cell(addr, size, is_write, expr, file, line);
    vx_model_unwind_if_aborting();
}

uint64_t vx_model_clock(void) {
    uint64_t v = vx_py_clock();
    vx_model_unwind_if_aborting();
    return v;
}

/* The site table the instrumented build's assembler pass emits into the
 * section vx_tsan_sites; the linker defines its bounds. Weak: a build with
 * no instrumented code has no such section. */
extern const vx_tsan_site __start_vx_tsan_sites[] __attribute__((weak));
extern const vx_tsan_site __stop_vx_tsan_sites[] __attribute__((weak));

size_t vx_tsan_sites(const vx_tsan_site **first) {
    *first = __start_vx_tsan_sites;
    if (__start_vx_tsan_sites == NULL || __stop_vx_tsan_sites == NULL) return 0;
    return (size_t)(__stop_vx_tsan_sites - __start_vx_tsan_sites);
}
