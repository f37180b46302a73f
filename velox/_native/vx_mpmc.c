/* vx_mpmc.c: Vyukov's bounded MPMC ring; see vx_mpmc.h for the algorithm. */
#include "vx_mpmc.h"

#include <stdlib.h>
#include <string.h>

int vx_mpmc_capacity_ok(uint64_t n) {
    return n >= 2 && n <= VX_MPMC_MAX_CAPACITY && (n & (n - 1)) == 0;
}

void vx_mpmc_init(vx_mpmc *q, vx_mpmc_cell *cells, uint64_t capacity, uint64_t start_index) {
    q->capacity = capacity;
    q->mask = capacity - 1;
    q->cells = cells;
    /* Cell of index start + i is free for that index: seq = start + i. */
    for (uint64_t i = 0; i < capacity; i++) vx_init(&cells[(start_index + i) & q->mask].seq, start_index + i);
    vx_init(&q->enqueue_pos, start_index);
    vx_init(&q->dequeue_pos, start_index);
}

vx_mpmc *vx_mpmc_create(uint64_t capacity, uint64_t start_index, int *err) {
    if (!vx_mpmc_capacity_ok(capacity)) {
        *err = VX_EINVAL;
        return NULL;
    }
    vx_mpmc *q = aligned_alloc(VX_CACHELINE, sizeof(vx_mpmc));
    size_t bytes = (size_t)capacity * sizeof(vx_mpmc_cell);
    bytes = (bytes + VX_CACHELINE - 1) / VX_CACHELINE * VX_CACHELINE;
    vx_mpmc_cell *cells = aligned_alloc(VX_CACHELINE, bytes);
    if (q == NULL || cells == NULL) {
        free(q);
        free(cells);
        *err = VX_ENOMEM;
        return NULL;
    }
    memset(q, 0, sizeof *q);
    vx_mpmc_init(q, cells, capacity, start_index);
    *err = VX_OK;
    return q;
}

void vx_mpmc_destroy(vx_mpmc *q) {
    if (q == NULL) return;
    free(q->cells);
    free(q);
}

int vx_mpmc_push(vx_mpmc *q, const vx_txn *t) {
    /* relaxed: a starting guess; the compare-exchange below validates it, and
     * the cell's seq (acquire) carries the data ordering, not the position. */
    uint64_t pos = vx_load(&q->enqueue_pos, VX_RELAXED);
    vx_mpmc_cell *cell;
    for (;;) {
        cell = &q->cells[pos & q->mask];
        /* acquire: the previous lap's consumer finished reading this cell
         * before we overwrite it; pairs with the release store of seq in
         * vx_mpmc_pop. */
        uint64_t seq = vx_load(&cell->seq, VX_ACQUIRE);
        int64_t dif = (int64_t)(seq - pos);
        if (dif == 0) {
            /* relaxed: claiming the index only needs RMW atomicity (one winner
             * per pos); the data is published through seq below. */
            if (vx_cas_weak(&q->enqueue_pos, &pos, pos + 1, VX_RELAXED, VX_RELAXED)) break;
            /* on failure pos holds the current position: retry with it */
        } else if (dif < 0) {
            return 0; /* the cell still holds the record of pos - capacity: full */
        } else {
            /* another producer claimed pos already; relaxed: a fresh guess,
             * validated by the compare-exchange as above. */
            pos = vx_load(&q->enqueue_pos, VX_RELAXED);
        }
    }
    VX_CELL_WRITE(&cell->txn, sizeof cell->txn);
    cell->txn = *t;
    /* release: publishes the record written above to the consumer of pos;
     * pairs with the acquire load of seq in vx_mpmc_pop. */
    vx_store(&cell->seq, pos + 1, VX_RELEASE);
    return 1;
}

int vx_mpmc_pop(vx_mpmc *q, vx_txn *out) {
    /* relaxed: a starting guess, validated by the compare-exchange below. */
    uint64_t pos = vx_load(&q->dequeue_pos, VX_RELAXED);
    vx_mpmc_cell *cell;
    for (;;) {
        cell = &q->cells[pos & q->mask];
        /* acquire: the producer's write of the record happens before our read;
         * pairs with the release store of seq in vx_mpmc_push. */
        uint64_t seq = vx_load(&cell->seq, VX_ACQUIRE);
        int64_t dif = (int64_t)(seq - (pos + 1));
        if (dif == 0) {
            /* relaxed: one winner per pos is all the claim needs; the record
             * was ordered by the acquire load of seq above. */
            if (vx_cas_weak(&q->dequeue_pos, &pos, pos + 1, VX_RELAXED, VX_RELAXED)) break;
        } else if (dif < 0) {
            return 0; /* the producer of pos has not published yet: empty */
        } else {
            /* relaxed: another consumer took pos; a fresh guess as above. */
            pos = vx_load(&q->dequeue_pos, VX_RELAXED);
        }
    }
    VX_CELL_READ(&cell->txn, sizeof cell->txn);
    *out = cell->txn;
    /* release: our read of the record is done before the next lap's producer
     * overwrites it; pairs with the acquire load of seq in vx_mpmc_push. */
    vx_store(&cell->seq, pos + q->mask + 1, VX_RELEASE);
    return 1;
}

size_t vx_mpmc_push_many(vx_mpmc *q, const vx_txn *src, size_t n) {
    size_t i = 0;
    while (i < n && vx_mpmc_push(q, &src[i])) i++;
    return i;
}

size_t vx_mpmc_pop_many(vx_mpmc *q, vx_txn *out, size_t n) {
    size_t i = 0;
    while (i < n && vx_mpmc_pop(q, &out[i])) i++;
    return i;
}

uint64_t vx_mpmc_len(vx_mpmc *q) {
    /* relaxed: a monitoring snapshot. Positions are claimed by relaxed RMWs,
     * so no order between the two loads can make the difference exact while
     * threads run; it is clamped to [0, capacity] instead, and it is exact
     * when every side is quiet (coherence). Partner: none. */
    uint64_t head = vx_load(&q->dequeue_pos, VX_RELAXED);
    /* relaxed: the other half of the same snapshot. */
    uint64_t tail = vx_load(&q->enqueue_pos, VX_RELAXED);
    int64_t n = (int64_t)(tail - head);
    if (n < 0) return 0; /* consumers claimed past the tail we read earlier */
    return (uint64_t)n > q->capacity ? q->capacity : (uint64_t)n;
}
