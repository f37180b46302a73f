/* plain_publish.h: a message published through a flag, with no VX_CELL_*
 * annotation on the plain fields: the model build's compiler instrumentation
 * finds the plain accesses by itself. */
#ifndef PLAIN_PUBLISH_H
#define PLAIN_PUBLISH_H
#include <stdint.h>
#include "vx_atomic.h"

typedef struct message {
    uint64_t price;     /* plain: written by the poster before publishing */
    uint32_t qty;       /* plain: likewise */
    vx_atomic_u64 ready; /* 1 once price and qty are published */
} message;

void message_init(message *m);
void message_post(message *m, uint64_t price, uint32_t qty);
int message_read(message *m, uint64_t *price, uint32_t *qty);
void seven_init(vx_atomic_u64 *x);
void wait_for_seven(vx_atomic_u64 *x);
int poll_seven(vx_atomic_u64 *x, int tries);
#endif
