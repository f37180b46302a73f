/*
 * vx_atomic.h: the only door between velox's C structures and shared memory.
 *
 * Every structure under velox/_native/ reaches memory shared between threads
 * through these wrappers and nothing else: atomic load, store, compare-exchange
 * (weak and strong), fetch-add, fetch-sub, fetch-or, fetch-and, exchange and fence, each with an
 * explicit memory order, a spin hint, a clock read, and read/write annotations
 * for plain (non-atomic) shared data such as ring slots.
 *
 * Two builds read this header:
 *   - production (default): the wrappers are <stdatomic.h> operations and the
 *     cell annotations compile to nothing;
 *   - model (-DVX_MODEL): every wrapper calls a hook (vx_model_*) that the
 *     explorer implements, so the explorer decides the schedule and which store
 *     each load reads from, while the very same structure code runs.
 *
 * This is the only file that includes <stdatomic.h> (ci/lint_atomics.py checks
 * it). The wrappers are macros so that the model build can record __FILE__ and
 * __LINE__ of the call site: a failing schedule names the C line.
 *
 * Callers must comment every use with why its order is enough
 * (ci/lint_atomics.py enforces it). The wrappers themselves
 * take the order from the caller and add none of their own.
 */
#ifndef VX_ATOMIC_H
#define VX_ATOMIC_H

#include <stddef.h>
#include <stdint.h>

/** Size of a cache line on the targets we build for (x86_64, aarch64). */
#define VX_CACHELINE 64

#ifndef VX_MODEL
/* ------------------------------------------------------------------------ */
/* Production build: plain C11 atomics.                                     */
/* ------------------------------------------------------------------------ */
#include <stdatomic.h>

typedef _Atomic uint64_t vx_atomic_u64;
typedef _Atomic int64_t vx_atomic_i64;

#define VX_RELAXED memory_order_relaxed
#define VX_ACQUIRE memory_order_acquire
#define VX_RELEASE memory_order_release
#define VX_ACQ_REL memory_order_acq_rel
#define VX_SEQ_CST memory_order_seq_cst

/* Initialisation before the object is shared: not an atomic operation. */
#define vx_init(p, v) atomic_init((p), (v))

#define vx_load(p, o) atomic_load_explicit((p), (o))
#define vx_store(p, v, o) atomic_store_explicit((p), (v), (o))
#define vx_exchange(p, v, o) atomic_exchange_explicit((p), (v), (o))
#define vx_fetch_add(p, v, o) atomic_fetch_add_explicit((p), (v), (o))
#define vx_fetch_sub(p, v, o) atomic_fetch_sub_explicit((p), (v), (o))
#define vx_fetch_or(p, v, o) atomic_fetch_or_explicit((p), (v), (o))
#define vx_fetch_and(p, v, o) atomic_fetch_and_explicit((p), (v), (o))
/* expected is a pointer: on failure it receives the value read (as C11). */
#define vx_cas_weak(p, expected, desired, succ, fail) \
    atomic_compare_exchange_weak_explicit((p), (expected), (desired), (succ), (fail))
#define vx_cas_strong(p, expected, desired, succ, fail) \
    atomic_compare_exchange_strong_explicit((p), (expected), (desired), (succ), (fail))
#define vx_fence(o) atomic_thread_fence(o)

/* Plain shared data (ring slots): nothing to do in production. */
#define VX_CELL_READ(ptr, size) ((void)0)
#define VX_CELL_WRITE(ptr, size) ((void)0)

/* Spin hint: tell the core we are busy-waiting (saves power, yields the
 * pipeline to the sibling hyper-thread, avoids a memory-order mis-speculation
 * on exit from the loop). */
/* vx_backoff_hint(): the same pause, in a retry loop that goes on whether or
 * not anything changed (exponential backoff after a failed compare-exchange).
 * The model build tells the two apart: vx_spin_hint() marks a loop that waits
 * for another thread's write; vx_backoff_hint() is no wait at all. */
#define vx_backoff_hint() vx_spin_hint()
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define vx_spin_hint() _mm_pause()
#elif defined(__aarch64__)
#define vx_spin_hint() __asm__ __volatile__("yield" ::: "memory")
#else
#define vx_spin_hint() ((void)0)
#endif

#else /* VX_MODEL */
/* ------------------------------------------------------------------------ */
/* Model build: every operation is a call into the explorer.                */
/* ------------------------------------------------------------------------ */

/* The struct wrappers make any direct, unannotated access a compile error. */
typedef struct { uint64_t v; } vx_atomic_u64;
typedef struct { int64_t v; } vx_atomic_i64;

/* Orders as the explorer numbers them (velox.explore.rt.orders). */
#define VX_RELAXED 0
#define VX_ACQUIRE 2
#define VX_RELEASE 3
#define VX_ACQ_REL 4
#define VX_SEQ_CST 5

/* Read-modify-write kinds passed to vx_model_rmw. */
#define VX_RMW_ADD 0
#define VX_RMW_SUB 1
#define VX_RMW_XCHG 2
#define VX_RMW_OR 3
#define VX_RMW_AND 4

/* Hooks into the explorer (vx_model_hooks.c, which calls its Python side and
 * unwinds the C frames when the execution ends). Values travel as 64-bit
 * patterns; is_signed tells the explorer how to print them. */
void vx_model_init(void *addr, uint64_t value, int is_signed, const char *name, const char *file, int line);
uint64_t vx_model_load(void *addr, int order, const char *file, int line);
void vx_model_store(void *addr, uint64_t value, int order, const char *file, int line);
uint64_t vx_model_rmw(void *addr, int kind, uint64_t operand, int order, const char *file, int line);
int vx_model_cas(void *addr, uint64_t *expected, uint64_t desired, int weak, int succ, int fail,
                 const char *file, int line);
void vx_model_fence(int order, const char *file, int line);
void vx_model_spin(const char *file, int line);
void vx_model_cell(void *addr, size_t size, int is_write, const char *expr, const char *file, int line);
uint64_t vx_model_clock(void);

#define VX__SIGNED(p) _Generic(&(p)->v, int64_t *: 1, default: 0)
#define VX__TYPE(p) __typeof__((p)->v)

/* vx_model_init also writes the value into the atomic's storage. */
#define vx_init(p, val) \
    vx_model_init((void *)(p), (uint64_t)(VX__TYPE(p))(val), VX__SIGNED(p), #p, __FILE__, __LINE__)
#define vx_load(p, o) ((VX__TYPE(p))vx_model_load((void *)(p), (o), __FILE__, __LINE__))
#define vx_store(p, val, o) vx_model_store((void *)(p), (uint64_t)(VX__TYPE(p))(val), (o), __FILE__, __LINE__)
#define vx_exchange(p, val, o) \
    ((VX__TYPE(p))vx_model_rmw((void *)(p), VX_RMW_XCHG, (uint64_t)(VX__TYPE(p))(val), (o), __FILE__, __LINE__))
#define vx_fetch_add(p, val, o) \
    ((VX__TYPE(p))vx_model_rmw((void *)(p), VX_RMW_ADD, (uint64_t)(VX__TYPE(p))(val), (o), __FILE__, __LINE__))
#define vx_fetch_sub(p, val, o) \
    ((VX__TYPE(p))vx_model_rmw((void *)(p), VX_RMW_SUB, (uint64_t)(VX__TYPE(p))(val), (o), __FILE__, __LINE__))
#define vx_fetch_or(p, val, o) \
    ((VX__TYPE(p))vx_model_rmw((void *)(p), VX_RMW_OR, (uint64_t)(VX__TYPE(p))(val), (o), __FILE__, __LINE__))
#define vx_fetch_and(p, val, o) \
    ((VX__TYPE(p))vx_model_rmw((void *)(p), VX_RMW_AND, (uint64_t)(VX__TYPE(p))(val), (o), __FILE__, __LINE__))
#define vx_cas_weak(p, expected, desired, succ, fail) \
    vx_model_cas((void *)(p), (uint64_t *)(expected), (uint64_t)(VX__TYPE(p))(desired), 1, (succ), (fail), \
                 __FILE__, __LINE__)
#define vx_cas_strong(p, expected, desired, succ, fail) \
    vx_model_cas((void *)(p), (uint64_t *)(expected), (uint64_t)(VX__TYPE(p))(desired), 0, (succ), (fail), \
                 __FILE__, __LINE__)
#define vx_fence(o) vx_model_fence((o), __FILE__, __LINE__)
#ifdef __SANITIZE_THREAD__
/* Compiled with the thread-sanitizer instrumentation (velox.cmodel.build):
 * gcc reports every plain access itself, so the annotations are not needed. */
#define VX_CELL_READ(ptr, size) ((void)0)
#define VX_CELL_WRITE(ptr, size) ((void)0)
#else
#define VX_CELL_READ(ptr, size) vx_model_cell((void *)(ptr), (size), 0, #ptr, __FILE__, __LINE__)
#define VX_CELL_WRITE(ptr, size) vx_model_cell((void *)(ptr), (size), 1, #ptr, __FILE__, __LINE__)
#endif
#define vx_spin_hint() vx_model_spin(__FILE__, __LINE__)
/* A backoff pause waits for nothing: the retry that follows proceeds whether
 * or not another thread wrote meanwhile, so the explorer must not treat it as
 * a wait (that would prune the executions where the retry runs at once). The
 * scheduler may still preempt at the retry's next atomic operation. */
#define vx_backoff_hint() ((void)0)

#endif /* VX_MODEL */

#endif /* VX_ATOMIC_H */
