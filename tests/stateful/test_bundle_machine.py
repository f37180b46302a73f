"""The bundle builder against its model (velox.models.bundle), step by step.

The builder runs on an injected clock the machine controls: it moves forward
by small steps, by exactly the timeout (and one either side of it, measured
from the oldest waiting transaction's arrival), jumps backwards, and
sometimes returns a reading the builder must refuse (negative, 2**64 - 1,
not an int). Limits: 1 to 16 transactions, timeouts from 1 ns to 2**64 - 1.
Beyond the model comparison, the transactions handed out, bundle after bundle,
must be exactly those pushed, in push order (no loss, no duplication).
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

from _lockstep import LockstepMachine, outcome, scaled_settings
from hypothesis import event
from hypothesis import strategies as st
from hypothesis.stateful import initialize, invariant, precondition, rule

from velox._native import _core
from velox.models import bundle as bundle_model

CLOCK_MAX = bundle_model.CLOCK_MAX
U64_MAX = (1 << 64) - 1


def _bundle_out(b: Any) -> Any:
    if b is None:
        return None
    return bundle_model.BundleOut(seq=b.seq, reason=b.reason, transactions=tuple(b.transactions),
                                  first_ts=b.first_ts, flush_ts=b.flush_ts)


def bundle_machine(core: ModuleType) -> type[LockstepMachine]:
    """A machine class driving ``core.BundleBuilder`` (from the given module)."""

    class BundleMachine(LockstepMachine):
        model = bundle_model

        def __init__(self) -> None:
            super().__init__()
            self.builder = None
            self.now: Any = 0
            self.next_id = 0       # id of the next transaction pushed
            self.next_out_id = 0   # id the next handed-out transaction must carry

        @initialize(max_txns=st.one_of(st.integers(1, 16), st.sampled_from([1, 2, 16])),
                    timeout=st.one_of(st.sampled_from([1, 2, 100_000, U64_MAX]), st.integers(1, 10**6)),
                    start=st.one_of(st.just(0), st.integers(0, 10**9), st.just(CLOCK_MAX - 3)))
        def create(self, max_txns: int, timeout: int, start: int) -> None:
            self.now = start
            self.builder = core.BundleBuilder(max_txns, timeout, clock=lambda: self.now)
            self.state = bundle_model.init(max_txns, timeout)

        def _handed_out(self, b: Any) -> None:
            if isinstance(b, bundle_model.BundleOut):
                event(f"bundle: handed out for {b.reason}")
                ids = [t.id for t in b.transactions]
                want = list(range(self.next_out_id, self.next_out_id + len(ids)))
                self.check(ids == want, f"bundle #{b.seq} holds ids {ids}, push order needs {want}")
                self.next_out_id += len(ids)

        # -- the clock ----------------------------------------------------------
        @rule(dt=st.one_of(st.integers(0, 3), st.integers(0, 10**6)))
        def tick(self, dt: int) -> None:
            self.now = min(self.now + dt, CLOCK_MAX)

        @precondition(lambda self: self.state is not None and self.state.waiting)
        @rule(delta=st.integers(-1, 1))
        def poll_near_deadline(self, delta: int) -> None:
            """Set the clock to the oldest waiting transaction's deadline, +-1, and poll."""
            event(f"bundle: poll at deadline {delta:+d}")
            self.now = max(0, min(self.state.first_ts + self.state.timeout + delta, CLOCK_MAX))
            self.poll()

        @precondition(lambda self: self.state is not None and self.state.waiting)
        @rule(back=st.one_of(st.integers(1, 3), st.integers(1, 10**9)))
        def poll_after_clock_went_back(self, back: int) -> None:
            """Move the clock to before the oldest arrival and poll: not timed out."""
            event("bundle: poll with the clock before the oldest arrival")
            self.now = max(0, self.state.first_ts - back)
            self.poll()

        @rule(back=st.one_of(st.integers(1, 3), st.integers(1, 10**9)))
        def jump_back(self, back: int) -> None:
            self.now = max(0, self.now - back)

        @rule(reading=st.sampled_from([-1, U64_MAX, 1 << 64, 1.5, "0", None]),
              op=st.sampled_from(["push", "poll", "flush"]))
        def bad_clock(self, reading: Any, op: str) -> None:
            """A reading the builder must refuse, changing nothing."""
            saved, self.now = self.now, reading
            try:
                if op == "push":
                    t = core.Transaction(id=self.next_id)
                    self.expect(bundle_model.Push(txn=t, now=reading), outcome(lambda: self.builder.push(t), _bundle_out))
                elif op == "poll":
                    self.expect(bundle_model.Poll(now=reading), outcome(self.builder.poll, _bundle_out))
                else:
                    self.expect(bundle_model.Flush(now=reading), outcome(self.builder.flush, _bundle_out))
            finally:
                self.now = saved

        # -- the builder --------------------------------------------------------
        @rule(price=st.integers(0, 10**7), qty=st.integers(1, 100), side=st.sampled_from([0, 1]))
        def push(self, price: int, qty: int, side: int) -> None:
            t = core.Transaction(id=self.next_id, ts=self.now, price=price, qty=qty, side=side)
            b = self.expect(bundle_model.Push(txn=t, now=self.now), outcome(lambda: self.builder.push(t), _bundle_out))
            self.next_id += 1
            self._handed_out(b)

        @rule()
        def poll(self) -> None:
            self._handed_out(self.expect(bundle_model.Poll(now=self.now), outcome(self.builder.poll, _bundle_out)))

        @rule()
        def flush(self) -> None:
            self._handed_out(self.expect(bundle_model.Flush(now=self.now), outcome(self.builder.flush, _bundle_out)))

        @invariant()
        def pending_matches(self) -> None:
            if self.builder is not None:
                self.expect(bundle_model.Pending(), outcome(lambda: self.builder.pending))
                self.check(len(self.builder) == len(self.state.waiting), "len(builder) differs from pending")

    if core is not _core:  # the shipping machine keeps its plain name: the falsifying program runs as printed
        BundleMachine.__name__ = BundleMachine.__qualname__ = f"BundleMachine_{core.__name__.replace('.', '_')}"
    return BundleMachine


BundleMachine = bundle_machine(_core)
TestBundle = BundleMachine.TestCase
TestBundle.settings = scaled_settings(3)
