/* vx_bundle.c: bundle builder; see vx_bundle.h. */
#include "vx_bundle.h"

#include <stdlib.h>
#include <string.h>

int vx_bundle_builder_init(vx_bundle_builder *b, uint32_t max_txns, uint64_t timeout) {
    if (max_txns < 1 || max_txns > VX_BUNDLE_MAX || timeout < 1) return VX_EINVAL;
    b->max_txns = max_txns;
    b->timeout = timeout;
    b->next_seq = 0;
    b->cur.count = 0;
    b->cur.reason = VX_FLUSH_NONE;
    b->cur.first_ts = 0;
    b->cur.flush_ts = 0;
    b->cur.seq = 0;
    return VX_OK;
}

vx_bundle_builder *vx_bundle_builder_new(uint32_t max_txns, uint64_t timeout) {
    vx_bundle_builder *b = malloc(sizeof *b);
    if (b == NULL) return NULL;
    if (vx_bundle_builder_init(b, max_txns, timeout) != VX_OK) {
        free(b);
        return NULL;
    }
    return b;
}

void vx_bundle_builder_free(vx_bundle_builder *b) { free(b); }

static void emit(vx_bundle_builder *b, uint64_t now, uint32_t reason, vx_bundle *out) {
    /* Copy header and only the filled records: the rest of out->txns is left
     * as it was and never read (count bounds every reader). */
    out->count = b->cur.count;
    out->reason = reason;
    out->first_ts = b->cur.first_ts;
    out->flush_ts = now;
    out->seq = b->next_seq++;
    memcpy(out->txns, b->cur.txns, (size_t)b->cur.count * sizeof(vx_txn));
    b->cur.count = 0;
}

int vx_bundle_builder_push(vx_bundle_builder *b, const vx_txn *t, uint64_t now, vx_bundle *out) {
    if (b->cur.count == 0) b->cur.first_ts = now;
    b->cur.txns[b->cur.count++] = *t;
    if (b->cur.count >= b->max_txns) {
        emit(b, now, VX_FLUSH_SIZE, out);
        return 1;
    }
    return 0;
}

int vx_bundle_builder_poll(vx_bundle_builder *b, uint64_t now, vx_bundle *out) {
    if (b->cur.count == 0) return 0;
    /* A clock that went backwards (now < first_ts) has not timed out. */
    if (now < b->cur.first_ts || now - b->cur.first_ts < b->timeout) return 0;
    emit(b, now, VX_FLUSH_TIMEOUT, out);
    return 1;
}

int vx_bundle_builder_flush(vx_bundle_builder *b, uint64_t now, vx_bundle *out) {
    if (b->cur.count == 0) return 0;
    emit(b, now, VX_FLUSH_FLUSH, out);
    return 1;
}

uint32_t vx_bundle_builder_pending(const vx_bundle_builder *b) { return b->cur.count; }

uint64_t vx_bundle_builder_deadline(const vx_bundle_builder *b) {
    if (b->cur.count == 0) return UINT64_MAX;
    uint64_t d = b->cur.first_ts + b->timeout;
    return d < b->cur.first_ts ? UINT64_MAX : d;
}
