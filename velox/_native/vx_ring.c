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

/* Free slots as the producer sees them, refreshing its cached head only when
 * the cache says fewer than `want` are free. */
static inline uint64_t producer_space(vx_ring *r, uint64_t tail, uint64_t want) {
    uint64_t space = r->capacity - (tail - r->head_cache);
    if (space < want) {
        /* acquire: the consumer's reads of the slots it released happen before
         * we overwrite them; pairs with the release store of head in
         * consumer_advance. */
        r->head_cache = vx_load(&r->head, VX_ACQUIRE);
        space = r->capacity - (tail - r->head_cache);
    }
    return space;
}

/* Records ready as the consumer sees them, refreshing the cached tail only
 * when the cache says fewer than `want` are ready. */
static inline uint64_t consumer_ready(vx_ring *r, uint64_t head, uint64_t want) {
    uint64_t ready = r->tail_cache - head;
    if (ready < want) {
        /* acquire: the producer's writes to the slots below tail are visible
         * before we read them; pairs with the release store of tail in
         * vx_ring_push / vx_ring_push_many. */
        r->tail_cache = vx_load(&r->tail, VX_ACQUIRE);
        ready = r->tail_cache - head;
    }
    return ready;
}

int vx_ring_push(vx_ring *r, const vx_txn *t) {
    /* relaxed: only the producer (this thread) writes tail. */
    uint64_t tail = vx_load(&r->tail, VX_RELAXED);
    if (producer_space(r, tail, 1) == 0) return 0;
    vx_txn *slot = &r->slots[tail & r->mask];
    VX_CELL_WRITE(slot, sizeof *slot);
    *slot = *t;
    /* release: publishes the slot written above; pairs with the acquire load
     * of tail in consumer_ready. */
    vx_store(&r->tail, tail + 1, VX_RELEASE);
    return 1;
}

size_t vx_ring_push_many(vx_ring *r, const vx_txn *src, size_t n) {
    /* relaxed: only the producer (this thread) writes tail. */
    uint64_t tail = vx_load(&r->tail, VX_RELAXED);
    uint64_t space = producer_space(r, tail, n);
    size_t k = n < space ? n : (size_t)space;
    if (k == 0) return 0;
    size_t first = (size_t)(tail & r->mask);
    size_t run = k;
    if (first + run > r->capacity) run = (size_t)r->capacity - first;
    for (size_t i = 0; i < k; i++) VX_CELL_WRITE(&r->slots[(tail + i) & r->mask], sizeof(vx_txn));
    memcpy(&r->slots[first], src, run * sizeof(vx_txn));
    if (run < k) memcpy(&r->slots[0], src + run, (k - run) * sizeof(vx_txn));
    /* release: publishes all k slots with one store; pairs with the acquire
     * load of tail in consumer_ready. */
    vx_store(&r->tail, tail + k, VX_RELEASE);
    return k;
}

int vx_ring_pop(vx_ring *r, vx_txn *out) {
    /* relaxed: only the consumer (this thread) writes head. */
    uint64_t head = vx_load(&r->head, VX_RELAXED);
    if (consumer_ready(r, head, 1) == 0) return 0;
    const vx_txn *slot = &r->slots[head & r->mask];
    VX_CELL_READ(slot, sizeof *slot);
    *out = *slot;
    /* release: our read of the slot is done before the producer may reuse
     * it; pairs with the acquire load of head in producer_space. */
    vx_store(&r->head, head + 1, VX_RELEASE);
    return 1;
}

size_t vx_ring_pop_many(vx_ring *r, vx_txn *out, size_t n) {
    /* relaxed: only the consumer (this thread) writes head. */
    uint64_t head = vx_load(&r->head, VX_RELAXED);
    uint64_t ready = consumer_ready(r, head, n);
    size_t k = n < ready ? n : (size_t)ready;
    if (k == 0) return 0;
    size_t first = (size_t)(head & r->mask);
    size_t run = k;
    if (first + run > r->capacity) run = (size_t)r->capacity - first;
    for (size_t i = 0; i < k; i++) VX_CELL_READ(&r->slots[(head + i) & r->mask], sizeof(vx_txn));
    memcpy(out, &r->slots[first], run * sizeof(vx_txn));
    if (run < k) memcpy(out + run, &r->slots[0], (k - run) * sizeof(vx_txn));
    /* release: our reads of the k slots are done before the producer may
     * reuse them; pairs with the acquire load of head in producer_space. */
    vx_store(&r->head, head + k, VX_RELEASE);
    return k;
}

size_t vx_ring_reserve(vx_ring *r, size_t want, vx_txn **a, size_t *na, vx_txn **b) {
    /* relaxed: only the producer (this thread) writes tail. */
    uint64_t tail = vx_load(&r->tail, VX_RELAXED);
    uint64_t space = producer_space(r, tail, want);
    size_t k = want < space ? want : (size_t)space;
    size_t first = (size_t)(tail & r->mask);
    size_t run = k;
    if (first + run > r->capacity) run = (size_t)r->capacity - first;
    for (size_t i = 0; i < k; i++) VX_CELL_WRITE(&r->slots[(tail + i) & r->mask], sizeof(vx_txn));
    *a = &r->slots[first];
    *na = run;
    *b = run < k ? &r->slots[0] : NULL;
    return k;
}

void vx_ring_commit(vx_ring *r, size_t k) {
    if (k == 0) return;
    /* relaxed: only the producer (this thread) writes tail. */
    uint64_t tail = vx_load(&r->tail, VX_RELAXED);
    /* release: publishes the k slots written in place since vx_ring_reserve;
     * pairs with the acquire load of tail in consumer_ready. */
    vx_store(&r->tail, tail + k, VX_RELEASE);
}

size_t vx_ring_peek(vx_ring *r, size_t want, const vx_txn **a, size_t *na, const vx_txn **b) {
    /* relaxed: only the consumer (this thread) writes head. */
    uint64_t head = vx_load(&r->head, VX_RELAXED);
    uint64_t ready = consumer_ready(r, head, want);
    size_t k = want < ready ? want : (size_t)ready;
    size_t first = (size_t)(head & r->mask);
    size_t run = k;
    if (first + run > r->capacity) run = (size_t)r->capacity - first;
    for (size_t i = 0; i < k; i++) VX_CELL_READ(&r->slots[(head + i) & r->mask], sizeof(vx_txn));
    *a = &r->slots[first];
    *na = run;
    *b = run < k ? &r->slots[0] : NULL;
    return k;
}

void vx_ring_release(vx_ring *r, size_t k) {
    if (k == 0) return;
    /* relaxed: only the consumer (this thread) writes head. */
    uint64_t head = vx_load(&r->head, VX_RELAXED);
    /* release: our in-place reads of the k slots are done before the producer
     * may reuse them; pairs with the acquire load of head in producer_space. */
    vx_store(&r->head, head + k, VX_RELEASE);
}

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
