/*
 * vx_model_rt.h: the model build's runtime in C, between the C code under the
 * explorer and the explorer's Python hooks.
 *
 * The vx_model_* functions that vx_atomic.h's model branch calls are defined
 * in vx_model_hooks.c: each calls its Python hook (vx_py_*, a cffi extern
 * "Python+C" callback) and then, if the explorer ended the execution while
 * the hook ran (a verdict in another thread, a deadlock, a pruned schedule),
 * unwinds the C frames with longjmp to the entry trampoline that velox
 * generates around every function Python calls. The Python hook itself always
 * returns normally: no jump ever crosses a Python frame.
 *
 * vx_model_tsan.c implements the entry points gcc's -fsanitize=thread
 * instrumentation calls (__tsan_read8, __tsan_write4, ...), so that the plain
 * accesses of unannotated C reach the explorer (see docs/explore-c.md).
 */
#ifndef VX_MODEL_RT_H
#define VX_MODEL_RT_H

#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>

/* The Python hooks (cffi extern "Python+C", defined by the cffi module). */
void vx_py_init(void *addr, uint64_t value, int is_signed, const char *name, const char *file, int line);
uint64_t vx_py_load(void *addr, int order, const char *file, int line);
void vx_py_store(void *addr, uint64_t value, int order, const char *file, int line);
uint64_t vx_py_rmw(void *addr, int kind, uint64_t operand, int order, const char *file, int line);
int vx_py_cas(void *addr, uint64_t *expected, uint64_t desired, int weak, int succ, int fail, const char *file,
              int line);
void vx_py_fence(int order, const char *file, int line);
void vx_py_spin(const char *file, int line, const void *state, size_t size);
void vx_py_cell(void *addr, size_t size, int is_write, const char *expr, const char *file, int line);
uint64_t vx_py_clock(void);
void vx_py_plain(void *addr, size_t size, int is_write, void *pc);
uint64_t vx_py_atomic(int op, void *addr, int size, uint64_t operand, uint64_t *expected, int order,
                      int failure_order, void *pc);
void vx_py_unsupported(const char *what, void *pc);

/* Entry trampolines: setjmp(*jb) first, then vx_model_enter(jb) before calling
 * the C function and vx_model_leave(previous) after it (on either path). */
jmp_buf *vx_model_enter(jmp_buf *jb);
void vx_model_leave(jmp_buf *previous);
/* Called by a Python hook (through cffi) when the execution is over for this
 * thread: the hook's C caller unwinds as soon as the hook returns. */
void vx_model_abort(void);
/* Nonzero while this thread runs C code entered through a trampoline. */
int vx_model_in_entry(void);
/* Unwind to the innermost trampoline if vx_model_abort() was called. */
void vx_model_unwind_if_aborting(void);

/* One instrumented access site (a call to a __tsan_* entry point): the
 * address the call returns to, and the source position gcc recorded. */
typedef struct vx_tsan_site {
    uintptr_t pc;
    const char *file;
    int64_t line;
    int64_t col;
} vx_tsan_site;
/* The table of every instrumented site in this module (count returned). */
size_t vx_tsan_sites(const vx_tsan_site **first);

#endif /* VX_MODEL_RT_H */
