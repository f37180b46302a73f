/* stdatomic_publish.c: user code written with <stdatomic.h> directly, not
 * vx_atomic.h (a user's structure as it is): the instrumented model build
 * routes its atomics to the explorer too. PUBLISH is the order of the flag
 * store (memory_order_release is right; memory_order_relaxed is the bug). */
#include <stdatomic.h>
#include <stdint.h>

#ifndef PUBLISH
#define PUBLISH memory_order_release
#endif

typedef struct slot {
    uint64_t price;    /* plain: written before publishing */
    atomic_uint ready; /* 1 once price is published */
} slot;

void slot_init(slot *s) {
    s->price = 0;
    atomic_init(&s->ready, 0);
}

void slot_post(slot *s, uint64_t price) {
    s->price = price;
    /* PUBLISH (release when correct): pairs with the acquire load in slot_read. */
    atomic_store_explicit(&s->ready, 1, PUBLISH);
}

int slot_read(slot *s, uint64_t *price) {
    /* acquire: pairs with the publishing store in slot_post. */
    if (atomic_load_explicit(&s->ready, memory_order_acquire) == 0) return 0;
    *price = s->price;
    return 1;
}

unsigned slot_bump(slot *s) {
    unsigned expected = 1;
    /* acq_rel: a counter; the CAS loop below retries with the value seen. */
    while (!atomic_compare_exchange_weak_explicit(&s->ready, &expected, expected + 1, memory_order_acq_rel,
                                                  memory_order_relaxed)) {
    }
    /* relaxed: only the counting matters. */
    return atomic_fetch_or_explicit(&s->ready, 16, memory_order_relaxed);
}
