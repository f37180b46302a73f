/*
 * mailbox.h: a one-shot mailbox, the worked example of putting your own C
 * structure under velox's explorer (docs/explore-c.md).
 *
 * One thread posts a message (two plain words) and raises a flag; another
 * waits for the flag and reads the message. The flag's release store and the
 * reader's acquire load are what make the plain reads safe: without them the
 * explorer reports a data race on the message (and on weak hardware the
 * reader could see a half-written message).
 */
#ifndef MAILBOX_H
#define MAILBOX_H

#include <stdint.h>

#include "vx_atomic.h"

typedef struct mailbox {
    vx_atomic_u64 full; /**< 0 until the message is complete; written once by the poster */
    uint64_t a, b;      /**< the message: plain data, published by `full` */
} mailbox;

void mailbox_init(mailbox *m);
void mailbox_post(mailbox *m, uint64_t a, uint64_t b);
/** 1 and the message if posted, else 0 (never blocks). */
int mailbox_try_read(mailbox *m, uint64_t *a, uint64_t *b);

#endif
