# OrderBook: lock-free aggregated price levels.
from velox._native.vx_book cimport (
    vx_book, vx_book_params_ok, vx_book_create, vx_book_create_single_writer, vx_book_destroy, vx_book_level, vx_book_level_price,
    vx_book_add, vx_book_remove, vx_book_update, vx_book_owner_add, vx_book_owner_remove, vx_book_owner_best, vx_book_depth, vx_book_best, VX_BOOK_MAX_LEVELS, VX_BOOK_MAX_TICK_SHIFT,
)

_INT64_MAX = 0x7FFFFFFFFFFFFFFF


cdef class OrderBook:
    """Order book of aggregated quantity per price level, both sides.

    Price p (int ticks of 0.0001) rests at level ``(p - base_price) >>
    tick_shift``; prices outside ``[min_price, max_price)`` raise ValueError.
    ``base_price`` defaults to centring the book on $100.00. Updates retry a
    compare-exchange at most ``max_retries`` times and raise ``velox.Timeout``
    (changing nothing) beyond that. Best prices are a level's lowest price.
    Safe to call from several threads at once.

    ``single_writer=True`` makes the single-writer book the pipeline's book
    stage uses (``vx_book_create_single_writer``: updates are plain stores,
    no locked instruction, never a Timeout). Every call holds the GIL, which
    makes the Python threads calling it one writer at a time with
    happens-before between them, so it is safe from any thread on CPython
    with a GIL.
    """

    cdef vx_book *b
    cdef readonly uint32_t levels
    cdef readonly uint32_t tick_shift
    cdef readonly int64_t base_price
    cdef readonly uint32_t max_retries
    cdef readonly bint single_writer

    def __cinit__(self, levels=1024, tick_shift=4, base_price=None, max_retries=100, single_writer=False):
        if not isinstance(single_writer, bool):
            raise TypeError(f"single_writer must be True or False, got {single_writer!r}")
        _check_int("levels", levels, 1, VX_BOOK_MAX_LEVELS)
        _check_int("tick_shift", tick_shift, 0, VX_BOOK_MAX_TICK_SHIFT)
        _check_int("max_retries", max_retries, 1, 0xFFFFFFFF)
        if base_price is None:
            base_price = max(0, 1_000_000 - (levels << tick_shift) // 2)
        _check_int("base_price", base_price, 0, _INT64_MAX)
        if vx_book_params_ok(base_price, levels, tick_shift, max_retries) != VX_OK:
            raise ValueError(
                f"base_price + (levels << tick_shift) = {base_price + (levels << tick_shift)} "
                f"does not fit in a signed 64-bit price")
        cdef int err = 0
        if single_writer:
            self.b = vx_book_create_single_writer(base_price, levels, tick_shift, &err)
        else:
            self.b = vx_book_create(base_price, levels, tick_shift, max_retries, &err)
        if self.b == NULL:
            _raise_for(err, "OrderBook")
        self.levels = levels
        self.tick_shift = tick_shift
        self.base_price = base_price
        self.max_retries = max_retries
        self.single_writer = single_writer

    def __dealloc__(self):
        vx_book_destroy(self.b)

    @property
    def min_price(self):
        """Lowest price the book accepts (ticks)."""
        return self.base_price

    @property
    def max_price(self):
        """One past the highest price the book accepts (ticks)."""
        return self.base_price + (<int64_t>self.levels << self.tick_shift)

    cdef int _check(self, side, price, qty) except -1:
        if isinstance(side, bool) or not isinstance(side, int) or side not in (VX_BID, VX_ASK):
            raise ValueError(f"side must be velox.BID (0) or velox.ASK (1), got {side!r}")
        _check_int("price", price, -0x8000000000000000, _INT64_MAX)
        if price < self.base_price or price >= self.max_price:
            raise ValueError(
                f"price {price} is outside the book: allowed [{self.base_price}, {self.max_price}) "
                f"(levels={self.levels}, tick_shift={self.tick_shift})")
        if qty is not None:
            _check_int("qty", qty, 1, _INT64_MAX)
        return 0

    cdef int _update(self, int s, int64_t p, int64_t delta):
        # One compare-exchange attempt holding the GIL (it almost never fails,
        # and dropping and retaking the GIL costs more than the update); the
        # retries, which can spin with backoff, run without it. Together they
        # make at most max_retries attempts, as the C API does.
        # Single writer: held GIL is what makes this thread the one writer.
        if self.single_writer:
            return vx_book_owner_add(self.b, s, p, delta) if delta > 0 else vx_book_owner_remove(self.b, s, p, -delta)
        cdef int err = vx_book_update(self.b, s, p, delta, 1)
        if err != VX_ETIMEOUT or self.max_retries == 1:
            return err
        with nogil:
            err = vx_book_update(self.b, s, p, delta, self.max_retries - 1)
        return err

    def add(self, side, price, qty):
        """Add qty (>= 1) resting at price on side."""
        self._check(side, price, qty)
        cdef int s = side
        cdef int64_t p = price, q = qty
        cdef int err = self._update(s, p, q)
        if err == VX_EOVERFLOW:
            raise ValueError(f"adding {qty} at price {price} would overflow the level's 64-bit quantity")
        _raise_for(err, f"add({side}, {price}, {qty})")

    def remove(self, side, price, qty):
        """Remove qty (>= 1) at price on side; ValueError if it would go below zero."""
        self._check(side, price, qty)
        cdef int s = side
        cdef int64_t p = price, q = qty
        cdef int err = self._update(s, p, -q)
        if err == VX_EUNDERFLOW:
            raise ValueError(
                f"cannot remove {qty} at price {price} on {'bid' if s == VX_BID else 'ask'}: only "
                f"{vx_book_depth(self.b, s, p)} resting at that level (never goes below zero)")
        _raise_for(err, f"remove({side}, {price}, {qty})")

    def depth(self, side, price):
        """Quantity resting at the level that holds price."""
        self._check(side, price, None)
        return vx_book_depth(self.b, side, price)

    def level_of(self, price):
        """Level index of price (ValueError outside the book)."""
        self._check(VX_BID, price, None)
        return vx_book_level(self.b, price)

    def level_price(self, level):
        """Lowest price of a level."""
        _check_int("level", level, 0, self.levels - 1)
        return vx_book_level_price(self.b, level)

    cdef int _best(self, int side, int64_t *p):
        # A single-writer book: the caller holds the GIL, so it is the writer,
        # and its query may tidy the stale bits (vx_book_owner_best).
        if self.single_writer:
            return vx_book_owner_best(self.b, side, p) == 1
        return vx_book_best(self.b, side, p) == 1

    def best_bid(self):
        """Price of the highest non-empty bid level, or None."""
        cdef int64_t p
        if self._best(VX_BID, &p):
            return p
        return None

    def best_ask(self):
        """Price of the lowest non-empty ask level, or None."""
        cdef int64_t p
        if self._best(VX_ASK, &p):
            return p
        return None

    def spread(self):
        """best_ask - best_bid in ticks (negative when crossed), or None if a side is empty."""
        bid = self.best_bid()
        ask = self.best_ask()
        if bid is None or ask is None:
            return None
        return ask - bid

    def __repr__(self):
        return (f"OrderBook(levels={self.levels}, tick_shift={self.tick_shift}, "
                f"base_price={self.base_price}, max_retries={self.max_retries}"
                f"{', single_writer=True' if self.single_writer else ''})")
