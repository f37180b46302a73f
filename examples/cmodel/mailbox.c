/* mailbox.c: see mailbox.h. Build with -DMAILBOX_BUG_RELAXED to get the bug. */
#include "mailbox.h"

#ifdef MAILBOX_BUG_RELAXED
#define PUBLISH VX_RELAXED /* the bug: nothing orders the message before the flag */
#else
#define PUBLISH VX_RELEASE
#endif

void mailbox_init(mailbox *m) {
    vx_init(&m->full, 0);
    m->a = m->b = 0;
}

void mailbox_post(mailbox *m, uint64_t a, uint64_t b) {
    VX_CELL_WRITE(&m->a, sizeof m->a);
    m->a = a;
    VX_CELL_WRITE(&m->b, sizeof m->b);
    m->b = b;
    /* release: publishes a and b; pairs with the acquire load in mailbox_try_read. */
    vx_store(&m->full, 1, PUBLISH);
}

int mailbox_try_read(mailbox *m, uint64_t *a, uint64_t *b) {
    /* acquire: makes the poster's writes of a and b visible; pairs with the
     * release store in mailbox_post. */
    if (vx_load(&m->full, VX_ACQUIRE) == 0) return 0;
    VX_CELL_READ(&m->a, sizeof m->a);
    *a = m->a;
    VX_CELL_READ(&m->b, sizeof m->b);
    *b = m->b;
    return 1;
}
