# Cython mirror of vx_book.h.
from libc.stdint cimport uint32_t, int64_t

cdef extern from "vx_book.h" nogil:
    enum:
        VX_BOOK_DEFAULT_RETRIES
        VX_BOOK_MAX_LEVELS
        VX_BOOK_MAX_TICK_SHIFT
    ctypedef struct vx_book:
        pass
    int vx_book_params_ok(int64_t base_price, uint32_t levels, uint32_t tick_shift, uint32_t max_retries)
    vx_book *vx_book_create(int64_t base_price, uint32_t levels, uint32_t tick_shift, uint32_t max_retries, int *err)
    vx_book *vx_book_create_single_writer(int64_t base_price, uint32_t levels, uint32_t tick_shift, int *err)
    void vx_book_destroy(vx_book *b)
    int64_t vx_book_level(const vx_book *b, int64_t price)
    int64_t vx_book_level_price(const vx_book *b, uint32_t level)
    int vx_book_add(vx_book *b, int side, int64_t price, int64_t qty)
    int vx_book_remove(vx_book *b, int side, int64_t price, int64_t qty)
    int vx_book_owner_add(vx_book *b, int side, int64_t price, int64_t qty)
    int vx_book_owner_remove(vx_book *b, int side, int64_t price, int64_t qty)
    int vx_book_update(vx_book *b, int side, int64_t price, int64_t delta, uint32_t attempts)
    int64_t vx_book_depth(vx_book *b, int side, int64_t price)
    int vx_book_best(vx_book *b, int side, int64_t *price)
    int vx_book_owner_best(vx_book *b, int side, int64_t *price)
