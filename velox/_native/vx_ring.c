/* vx_ring.c: SPSC ring; see vx_ring.h for the algorithm and its invariant. */
#include "vx_ring.h"

#include <stdlib.h>
#include <string.h>

int vx_ring_capacity_ok(uint64_t n) {
    return n >= 1 && n <= VX_RING_MAX_CAPACITY && (n & (n - 1)) == 0;
}

void vx_ring_init(vx_ring *r, vx_txn *slots, uint64_t capacity, uint64_t start_index) {
    vx_init(&r->tail, start_index);
    vx_init(&r->head, start_index);
    r->head_cache = start_index;
    r->tail_cache = start_index;
    r->capacity = capacity;
    r->mask = capacity - 1;
    r->slots = slots;
}

vx_ring *vx_ring_create(uint64_t capacity, uint64_t start_index, int *err) {
    if (!vx_ring_capacity_ok(capacity)) {
        *err = VX_EINVAL;
        return NULL;
    }
    vx_ring *r = aligned_alloc(VX_CACHELINE, sizeof(vx_ring));
    /* Slots start uninitialised: a slot is only read after the producer wrote
     * it and published that write through tail (see vx_ring_pop). */
    vx_txn *slots = vx_txn_alloc(capacity);
    if (r == NULL || slots == NULL) {
        free(r);
        free(slots);
        *err = VX_ENOMEM;
        return NULL;
    }
    memset(r, 0, sizeof *r);
    vx_ring_init(r, slots, capacity, start_index);
    *err = VX_OK;
    return r;
}

void vx_ring_destroy(vx_ring *r) {
    if (r == NULL) return;
    free(r->slots);
    free(r);
}

int vx_ring_push(vx_ring *r, const vx_txn *t) { return vx_ring_try_push(r, t); }

int vx_ring_pop(vx_ring *r, vx_txn *out) { return vx_ring_try_pop(r, out); }

size_t vx_ring_push_many(vx_ring *r, const vx_txn *src, size_t n) {
    /* relaxed: only the producer (this thread) writes tail. */
    uint64_t tail = vx_load(&r->tail, VX_RELAXED);
    uint64_t space = vx_ring__space(r, tail, n);
    size_t k = n < space ? n : (size_t)space;
    if (k == 0) return 0;
    size_t first = (size_t)(tail & r->mask);
    size_t run = k;
    if (first + run > r->capacity) run = (size_t)r->capacity - first;
    for (size_t i = 0; i < k; i++) VX_CELL_WRITE(&r->slots[(tail + i) & r->mask], sizeof(vx_txn));
    memcpy(&r->slots[first], src, run * sizeof(vx_txn));
    if (run < k) memcpy(&r->slots[0], src + run, (k - run) * sizeof(vx_txn));
    /* release: publishes all k slots with one store; pairs with the acquire
     * load of tail in vx_ring__ready. */
    vx_store(&r->tail, tail + k, VX_RELEASE);
    return k;
}

size_t vx_ring_pop_many(vx_ring *r, vx_txn *out, size_t n) {
    /* relaxed: only the consumer (this thread) writes head. */
    uint64_t head = vx_load(&r->head, VX_RELAXED);
    uint64_t ready = vx_ring__ready(r, head, n);
    size_t k = n < ready ? n : (size_t)ready;
    if (k == 0) return 0;
    size_t first = (size_t)(head & r->mask);
    size_t run = k;
    if (first + run > r->capacity) run = (size_t)r->capacity - first;
    for (size_t i = 0; i < k; i++) VX_CELL_READ(&r->slots[(head + i) & r->mask], sizeof(vx_txn));
    memcpy(out, &r->slots[first], run * sizeof(vx_txn));
    if (run < k) memcpy(out + run, &r->slots[0], (k - run) * sizeof(vx_txn));
    /* release: our reads of the k slots are done before the producer may
     * reuse them; pairs with the acquire load of head in vx_ring__space. */
    vx_store(&r->head, head + k, VX_RELEASE);
    return k;
}

size_t vx_ring_reserve(vx_ring *r, size_t want, vx_txn **a, size_t *na, vx_txn **b) {
    return vx_ring_try_reserve(r, want, a, na, b);
}

void vx_ring_commit(vx_ring *r, size_t k) { vx_ring_publish(r, k); }

size_t vx_ring_peek(vx_ring *r, size_t want, const vx_txn **a, size_t *na, const vx_txn **b) {
    return vx_ring_try_peek(r, want, a, na, b);
}

void vx_ring_release(vx_ring *r, size_t k) { vx_ring_consume(r, k); }

uint64_t vx_ring_len(vx_ring *r) {
    /* acquire: the consumer advanced head only after observing tail >= head,
     * so the tail we load next is at least head (no negative length). Pairs
     * with the release store of head. */
    uint64_t head = vx_load(&r->head, VX_ACQUIRE);
    /* relaxed: a snapshot; coherence after the acquire above gives tail >= head. */
    uint64_t tail = vx_load(&r->tail, VX_RELAXED);
    uint64_t n = tail - head;
    /* The consumer may have moved on between the two loads; a snapshot taken
     * while both sides run can then exceed the capacity by what was popped in
     * between. Report the bound the ring guarantees. */
    return n > r->capacity ? r->capacity : n;
}
