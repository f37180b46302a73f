/*
 * _model_cdef.h: what the model build (velox._native._model, cffi) exposes to
 * Python. cffi cannot read the real headers (_Alignas, _Static_assert,
 * macros), so this file restates their public functions in the subset of C
 * that cffi parses. tests/explore_c/test_cdef_matches_headers.py checks that every function
 * declared here has the same signature in the real header, so the two cannot
 * drift apart.
 */
typedef struct vx_txn {
    uint64_t id;
    uint64_t ts;
    int64_t price;
    uint32_t qty;
    uint8_t side;
    uint8_t flags;
    uint16_t producer;
} vx_txn;

typedef struct vx_bundle {
    uint32_t count;
    uint32_t reason;
    uint64_t first_ts;
    uint64_t flush_ts;
    uint64_t seq;
    vx_txn txns[16];
} vx_bundle;

typedef struct vx_ring vx_ring;
vx_ring *vx_ring_create(uint64_t capacity, uint64_t start_index, int *err);
void vx_ring_destroy(vx_ring *r);
int vx_ring_push(vx_ring *r, const vx_txn *t);
size_t vx_ring_push_many(vx_ring *r, const vx_txn *src, size_t n);
int vx_ring_pop(vx_ring *r, vx_txn *out);
size_t vx_ring_pop_many(vx_ring *r, vx_txn *out, size_t n);
uint64_t vx_ring_len(vx_ring *r);

typedef struct vx_mpmc vx_mpmc;
vx_mpmc *vx_mpmc_create(uint64_t capacity, uint64_t start_index, int *err);
void vx_mpmc_destroy(vx_mpmc *q);
int vx_mpmc_push(vx_mpmc *q, const vx_txn *t);
int vx_mpmc_pop(vx_mpmc *q, vx_txn *out);
uint64_t vx_mpmc_len(vx_mpmc *q);

typedef struct vx_book vx_book;
vx_book *vx_book_create(int64_t base_price, uint32_t levels, uint32_t tick_shift, uint32_t max_retries, int *err);
vx_book *vx_book_create_single_writer(int64_t base_price, uint32_t levels, uint32_t tick_shift, int *err);
void vx_book_destroy(vx_book *b);
int vx_book_add(vx_book *b, int side, int64_t price, int64_t qty);
int vx_book_remove(vx_book *b, int side, int64_t price, int64_t qty);
int vx_book_owner_add(vx_book *b, int side, int64_t price, int64_t qty);
int vx_book_owner_remove(vx_book *b, int side, int64_t price, int64_t qty);
int64_t vx_book_depth(vx_book *b, int side, int64_t price);
int vx_book_best(vx_book *b, int side, int64_t *price);
int vx_book_owner_best(vx_book *b, int side, int64_t *price);

typedef struct vx_bundle_builder vx_bundle_builder;
vx_bundle_builder *vx_bundle_builder_new(uint32_t max_txns, uint64_t timeout);
void vx_bundle_builder_free(vx_bundle_builder *b);
int vx_bundle_builder_push(vx_bundle_builder *b, const vx_txn *t, uint64_t now, vx_bundle *out);
int vx_bundle_builder_poll(vx_bundle_builder *b, uint64_t now, vx_bundle *out);
int vx_bundle_builder_flush(vx_bundle_builder *b, uint64_t now, vx_bundle *out);
uint32_t vx_bundle_builder_pending(const vx_bundle_builder *b);

uint64_t vx_tsc_now(void);
