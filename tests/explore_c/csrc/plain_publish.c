/* plain_publish.c: see plain_publish.h. PUBLISH is the order of the flag
 * store (VX_RELEASE is right; VX_RELAXED is the bug the explorer must find). */
#include "plain_publish.h"

#ifndef PUBLISH
#define PUBLISH VX_RELEASE
#endif

void message_init(message *m) {
    m->price = 0;
    m->qty = 0;
    vx_init(&m->ready, 0);
}

void message_post(message *m, uint64_t price, uint32_t qty) {
    m->price = price;
    m->qty = qty;
    /* PUBLISH (release when correct): publishes price and qty; pairs with
     * the acquire load in message_read. */
    vx_store(&m->ready, 1, PUBLISH);
}

int message_read(message *m, uint64_t *price, uint32_t *qty) {
    /* acquire: pairs with the publishing store in message_post. */
    if (vx_load(&m->ready, VX_ACQUIRE) == 0) return 0;
    *price = m->price;
    *qty = m->qty;
    return 1;
}

void seven_init(vx_atomic_u64 *x) { vx_init(x, 0); }

void wait_for_seven(vx_atomic_u64 *x) {
    /* acquire: would pair with the writer of 7, which never comes. */
    while (vx_load(x, VX_ACQUIRE) != 7) vx_spin_hint();
}

int poll_seven(vx_atomic_u64 *x, int tries) {
    for (int i = 0; i < tries; i++) {
        /* acquire: would pair with the writer of 7. */
        if (vx_load(x, VX_ACQUIRE) == 7) return 1;
        vx_spin_hint();
    }
    return 0;
}
