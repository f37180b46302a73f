/*
 * vx_model_tsan.c: velox's own runtime for gcc's -fsanitize=thread
 * instrumentation, linked into model builds of user C (velox.cmodel.build)
 * instead of libtsan, the way the Linux kernel's KCSAN reuses the same
 * instrumentation with its own runtime.
 *
 * gcc calls __tsan_readN/__tsan_writeN before every plain access to memory
 * that may be shared (locals kept in registers are not instrumented). Each
 * entry point here forwards the access to the explorer (vx_py_plain) with
 * the address the call returns to, which the site table maps back to the C
 * file, line and expression. Forwarded: accesses made while the thread runs
 * C code entered from Python through a trampoline, to any address outside
 * the calling thread's own stack (heap, globals, memory Python allocated).
 * Everything else (the thread's own locals, code run outside an explored
 * call) costs one thread-local test. Compiled without instrumentation.
 *
 * gcc expands small memcpy/memset calls inline without instrumenting them,
 * so instrumented sources are compiled with -fno-builtin-mem*, and their
 * calls are renamed to the vx_tsan_mem* interceptors below by the assembler
 * pass that also builds the site table (velox/_native/_model_tsan.py).
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <string.h>

#include "vx_model_rt.h"

#define VX_HIDDEN __attribute__((visibility("hidden")))

/* The calling thread's stack, found once per OS thread (model threads run on
 * pooled OS threads, whose stacks do not move). */
static __thread uintptr_t vx_stack_lo, vx_stack_hi;

static int vx_own_stack(uintptr_t a) {
    if (vx_stack_hi == 0) {
        pthread_attr_t attr;
        void *lo = NULL;
        size_t size = 0;
        vx_stack_hi = 1; /* unknown: nothing counts as the own stack */
        if (pthread_getattr_np(pthread_self(), &attr) == 0) {
            if (pthread_attr_getstack(&attr, &lo, &size) == 0) {
                vx_stack_lo = (uintptr_t)lo;
                vx_stack_hi = (uintptr_t)lo + size;
            }
            pthread_attr_destroy(&attr);
        }
    }
    return a >= vx_stack_lo && a < vx_stack_hi;
}

static void vx_access(const volatile void *addr, size_t size, int is_write, void *pc) {
    if (size == 0 || !vx_model_in_entry() || vx_own_stack((uintptr_t)addr)) return;
    vx_py_plain((void *)addr, size, is_write, pc);
    vx_model_unwind_if_aborting();
}

#define VX_PC __builtin_return_address(0)
#define VX_TSAN_SIZED(n)                                                                                          \
    VX_HIDDEN void __tsan_read##n(void *a) { vx_access(a, n, 0, VX_PC); }                                      \
    VX_HIDDEN void __tsan_write##n(void *a) { vx_access(a, n, 1, VX_PC); }                                     \
    VX_HIDDEN void __tsan_unaligned_read##n(void *a) { vx_access(a, n, 0, VX_PC); }                            \
    VX_HIDDEN void __tsan_unaligned_write##n(void *a) { vx_access(a, n, 1, VX_PC); }                           \
    VX_HIDDEN void __tsan_volatile_read##n(void *a) { vx_access(a, n, 0, VX_PC); }                             \
    VX_HIDDEN void __tsan_volatile_write##n(void *a) { vx_access(a, n, 1, VX_PC); }

VX_TSAN_SIZED(1)
VX_TSAN_SIZED(2)
VX_TSAN_SIZED(4)
VX_TSAN_SIZED(8)
VX_TSAN_SIZED(16)

VX_HIDDEN void __tsan_read_range(void *a, size_t n) { vx_access(a, n, 0, VX_PC); }
VX_HIDDEN void __tsan_write_range(void *a, size_t n) { vx_access(a, n, 1, VX_PC); }

/* Function entry and exit: the site table already names every access, so
 * velox keeps no shadow call stack. */
VX_HIDDEN void __tsan_init(void) {}
VX_HIDDEN void __tsan_func_entry(void *caller) { (void)caller; }
VX_HIDDEN void __tsan_func_exit(void) {}
/* C++ virtual-table pointers: not plain data of the structure under test. */
VX_HIDDEN void __tsan_vptr_update(void **vptr, void *value) { (void)vptr; (void)value; }
VX_HIDDEN void __tsan_vptr_read(void **vptr) { (void)vptr; }

/* memcpy, memmove and memset of instrumented code (renamed calls). */
VX_HIDDEN void *vx_tsan_memcpy(void *dst, const void *src, size_t n) {
    vx_access(src, n, 0, VX_PC);
    vx_access(dst, n, 1, VX_PC);
    return memcpy(dst, src, n);
}

VX_HIDDEN void *vx_tsan_memmove(void *dst, const void *src, size_t n) {
    vx_access(src, n, 0, VX_PC);
    vx_access(dst, n, 1, VX_PC);
    return memmove(dst, src, n);
}

VX_HIDDEN void *vx_tsan_memset(void *dst, int c, size_t n) {
    vx_access(dst, n, 1, VX_PC);
    return memset(dst, c, n);
}

/* Atomic operations written with <stdatomic.h> or __atomic builtins instead
 * of vx_atomic.h's wrappers: gcc calls these with the C11 memory order, and
 * they go to the explorer like vx_atomic.h's (vx_py_atomic; the location is
 * declared on first use with the value in memory). 128-bit atomics are
 * reported as unsupported. */
enum { VX_AT_LOAD, VX_AT_STORE, VX_AT_XCHG, VX_AT_ADD, VX_AT_SUB, VX_AT_AND, VX_AT_OR, VX_AT_XOR, VX_AT_NAND,
       VX_AT_CAS_STRONG, VX_AT_CAS_WEAK, VX_AT_FENCE };

static uint64_t vx_atomic(int op, volatile void *a, int size, uint64_t operand, uint64_t *expected, int mo, int fmo,
                          void *pc) {
    uint64_t r = vx_py_atomic(op, (void *)a, size, operand, expected, mo & 0xffff, fmo & 0xffff, pc);
    vx_model_unwind_if_aborting();
    return r;
}

#define VX_TSAN_ATOMIC(n, T)                                                                                     \
    VX_HIDDEN T __tsan_atomic##n##_load(const volatile T *a, int mo) {                                         \
        return (T)vx_atomic(VX_AT_LOAD, (volatile void *)a, n / 8, 0, NULL, mo, mo, VX_PC);                    \
    }                                                                                                          \
    VX_HIDDEN void __tsan_atomic##n##_store(volatile T *a, T v, int mo) {                                      \
        vx_atomic(VX_AT_STORE, a, n / 8, (uint64_t)v, NULL, mo, mo, VX_PC);                                    \
    }                                                                                                          \
    VX_HIDDEN T __tsan_atomic##n##_exchange(volatile T *a, T v, int mo) {                                      \
        return (T)vx_atomic(VX_AT_XCHG, a, n / 8, (uint64_t)v, NULL, mo, mo, VX_PC);                           \
    }                                                                                                          \
    VX_HIDDEN T __tsan_atomic##n##_fetch_add(volatile T *a, T v, int mo) {                                     \
        return (T)vx_atomic(VX_AT_ADD, a, n / 8, (uint64_t)v, NULL, mo, mo, VX_PC);                            \
    }                                                                                                          \
    VX_HIDDEN T __tsan_atomic##n##_fetch_sub(volatile T *a, T v, int mo) {                                     \
        return (T)vx_atomic(VX_AT_SUB, a, n / 8, (uint64_t)v, NULL, mo, mo, VX_PC);                            \
    }                                                                                                          \
    VX_HIDDEN T __tsan_atomic##n##_fetch_and(volatile T *a, T v, int mo) {                                     \
        return (T)vx_atomic(VX_AT_AND, a, n / 8, (uint64_t)v, NULL, mo, mo, VX_PC);                            \
    }                                                                                                          \
    VX_HIDDEN T __tsan_atomic##n##_fetch_or(volatile T *a, T v, int mo) {                                      \
        return (T)vx_atomic(VX_AT_OR, a, n / 8, (uint64_t)v, NULL, mo, mo, VX_PC);                             \
    }                                                                                                          \
    VX_HIDDEN T __tsan_atomic##n##_fetch_xor(volatile T *a, T v, int mo) {                                     \
        return (T)vx_atomic(VX_AT_XOR, a, n / 8, (uint64_t)v, NULL, mo, mo, VX_PC);                            \
    }                                                                                                          \
    VX_HIDDEN T __tsan_atomic##n##_fetch_nand(volatile T *a, T v, int mo) {                                    \
        return (T)vx_atomic(VX_AT_NAND, a, n / 8, (uint64_t)v, NULL, mo, mo, VX_PC);                           \
    }                                                                                                          \
    VX_HIDDEN int __tsan_atomic##n##_compare_exchange_strong(volatile T *a, T *c, T v, int mo, int fmo) {      \
        uint64_t e = (uint64_t)*c;                                                                             \
        int ok = (int)vx_atomic(VX_AT_CAS_STRONG, a, n / 8, (uint64_t)v, &e, mo, fmo, VX_PC);                  \
        *c = (T)e;                                                                                             \
        return ok;                                                                                             \
    }                                                                                                          \
    VX_HIDDEN int __tsan_atomic##n##_compare_exchange_weak(volatile T *a, T *c, T v, int mo, int fmo) {        \
        uint64_t e = (uint64_t)*c;                                                                             \
        int ok = (int)vx_atomic(VX_AT_CAS_WEAK, a, n / 8, (uint64_t)v, &e, mo, fmo, VX_PC);                    \
        *c = (T)e;                                                                                             \
        return ok;                                                                                             \
    }                                                                                                          \
    VX_HIDDEN T __tsan_atomic##n##_compare_exchange_val(volatile T *a, T c, T v, int mo, int fmo) {            \
        uint64_t e = (uint64_t)c;                                                                              \
        vx_atomic(VX_AT_CAS_STRONG, a, n / 8, (uint64_t)v, &e, mo, fmo, VX_PC);                                \
        return (T)e; /* the value read: c itself on success, the value seen on failure */                      \
    }

VX_TSAN_ATOMIC(8, uint8_t)
VX_TSAN_ATOMIC(16, uint16_t)
VX_TSAN_ATOMIC(32, uint32_t)
VX_TSAN_ATOMIC(64, uint64_t)

VX_HIDDEN void __tsan_atomic_thread_fence(int mo) { vx_atomic(VX_AT_FENCE, NULL, 0, 0, NULL, mo, mo, VX_PC); }
/* A signal fence orders nothing between threads. */
VX_HIDDEN void __tsan_atomic_signal_fence(int mo) { (void)mo; }

#define VX_TSAN_ATOMIC_UNSUPPORTED(name)                                                                        \
    VX_HIDDEN void name(void) {                                                                                \
        vx_py_unsupported(#name, VX_PC);                                                                       \
        vx_model_unwind_if_aborting();                                                                         \
    }
VX_TSAN_ATOMIC_UNSUPPORTED(__tsan_atomic128_load)
VX_TSAN_ATOMIC_UNSUPPORTED(__tsan_atomic128_store)
VX_TSAN_ATOMIC_UNSUPPORTED(__tsan_atomic128_exchange)
VX_TSAN_ATOMIC_UNSUPPORTED(__tsan_atomic128_fetch_add)
VX_TSAN_ATOMIC_UNSUPPORTED(__tsan_atomic128_fetch_sub)
VX_TSAN_ATOMIC_UNSUPPORTED(__tsan_atomic128_fetch_and)
VX_TSAN_ATOMIC_UNSUPPORTED(__tsan_atomic128_fetch_or)
VX_TSAN_ATOMIC_UNSUPPORTED(__tsan_atomic128_fetch_xor)
VX_TSAN_ATOMIC_UNSUPPORTED(__tsan_atomic128_fetch_nand)
VX_TSAN_ATOMIC_UNSUPPORTED(__tsan_atomic128_compare_exchange_strong)
VX_TSAN_ATOMIC_UNSUPPORTED(__tsan_atomic128_compare_exchange_weak)
VX_TSAN_ATOMIC_UNSUPPORTED(__tsan_atomic128_compare_exchange_val)
