"""Retry iterations that change nothing are blocked, never an outcome or a report lost.

A compare-exchange loop that re-reads at its head and comes back to the same read in the same
state, having only read and failed since, is blocked there (``Memory.check_retry``): the execution
without that iteration has the same outcomes. Every program below gives the same verdict and the
same outcomes with the rule as without it (``VELOX_EXPLORE_BLOCK_RETRIES=0``), under RC11 and SC:
loops whose state changes from one iteration to the next (a give-up counter, a record of what was
seen, an assertion on what was read, a plain access in the loop) are not blocked. A loop that can
never exit is still reported, as a livelock, and a retry counter kept in a class attribute the loop
names is state. The mutants (blocking without comparing the thread's state; a state capture blind to
the attributes a loop names) each lose a give-up outcome and are caught.
"""

from __future__ import annotations

import pytest

from velox import explore
from velox.explore import Atomic, Cell, ExplorationFailure, choose, spawn, spin_hint
from velox.explore.rt.execution import Execution
from velox_testing.shapes import load_at_head_counter


def gives_up_after(tries: int):
    """A retry loop with a give-up counter: its state changes every iteration, so it is never blocked."""
    def test():
        c = Atomic(0, name="c")

        def bump():
            for n in range(tries):
                cur = c.load("relaxed")
                ok, _v = c.compare_exchange_strong(cur, cur + 1, "acq_rel", "acquire")
                if ok:
                    return n
            return "gave up"

        def other():
            for _ in range(tries):
                c.fetch_add(1, "relaxed")

        a, b = spawn(bump), spawn(other)
        b.join()
        return a.join(), c.load("relaxed")

    return test


def _against_two_stores(loop, order: str):
    """``loop(x)`` in one thread, a writer storing 1 then 2 to ``x`` with ``order`` in another."""
    def test():
        x = Atomic(0, name="x")

        def writer():
            x.store(1, order)
            x.store(2, order)

        a, b = spawn(loop, x), spawn(writer)
        b.join()
        return a.join()

    return test


def records_what_it_saw():
    def loop(x):
        seen = []
        while True:
            v = x.load("acquire")
            seen.append(v)
            ok, _v = x.compare_exchange_strong(v, v + 10, "acq_rel", "acquire")
            if ok:
                return tuple(seen)

    return _against_two_stores(loop, "release")


def asserts_on_a_stale_read():
    """The assertion fails only in an iteration that reads 1: the rule must not hide it."""
    def loop(x):
        while True:
            v = x.load("relaxed")
            assert v != 1, "read the intermediate value"
            ok, _v = x.compare_exchange_strong(v, v + 10, "relaxed", "relaxed")
            if ok:
                return v

    return _against_two_stores(loop, "relaxed")


def reads_two_locations():
    def test():
        x, y = Atomic(0, name="x"), Atomic(0, name="y")

        def loop():
            while True:
                v = x.load("acquire")
                w = y.load("relaxed")
                ok, _v = x.compare_exchange_strong(v, v + 1, "acq_rel", "acquire")
                if ok:
                    return w

        def writer():
            y.store(1, "relaxed")
            x.fetch_add(5, "release")
            y.store(2, "relaxed")
            x.fetch_add(5, "release")

        a, b = spawn(loop), spawn(writer)
        b.join()
        return a.join(), x.load("relaxed")

    return test


def plain_read_in_the_loop():
    """A plain access in the iteration: never blocked (its races must all be seen)."""
    def test():
        x = Atomic(0, name="x")
        data = Cell(7, name="data")

        def loop():
            while True:
                v = x.load("acquire")
                d = data.get()
                ok, _v = x.compare_exchange_strong(v, v + 1, "acq_rel", "acquire")
                if ok:
                    return d

        def writer():
            x.fetch_add(1, "release")
            x.fetch_add(1, "release")

        a, b = spawn(loop), spawn(writer)
        b.join()
        return a.join()

    return test


PROGRAMS = {
    "counter-strong-2x2": load_at_head_counter(2, 2, False),
    "counter-weak-2x2": load_at_head_counter(2, 2, True),
    "counter-strong-3x1": load_at_head_counter(3, 1, False),
    "gives-up-after-3": gives_up_after(3),
    "records-what-it-saw": records_what_it_saw(),
    "asserts-on-a-stale-read": asserts_on_a_stale_read(),
    "reads-two-locations": reads_two_locations(),
    "plain-read-in-the-loop": plain_read_in_the_loop(),
}


def verdict(test, model: str, dpor: bool = True) -> tuple[str, object]:
    try:
        stats = explore.check(test, model=model, dpor=dpor)
    except ExplorationFailure as exc:
        return "fail", exc.kind
    return ("pass", stats.blocked) if stats.complete else ("incomplete", stats.incomplete_reason)


def outcomes_and_verdict(test, model: str, dpor: bool = True) -> tuple[frozenset, str, object]:
    kind, detail = verdict(test, model, dpor)
    try:
        outs = frozenset(explore.outcomes(test, model=model, dpor=dpor))
    except ExplorationFailure as exc:
        outs = frozenset({("failure", exc.kind)})
    return outs, kind, None if kind == "pass" else detail


@pytest.mark.parametrize("model", ["rc11", "sc"])
@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_same_outcomes_and_verdict_with_and_without_the_rule(name, model, monkeypatch):
    test = PROGRAMS[name]
    monkeypatch.setenv("VELOX_EXPLORE_BLOCK_RETRIES", "0")
    without = outcomes_and_verdict(test, model)
    monkeypatch.setenv("VELOX_EXPLORE_BLOCK_RETRIES", "1")
    with_rule = outcomes_and_verdict(test, model)
    assert with_rule == without


# Without DPOR every schedule is a plan, and a plan may hand the step to a thread that then blocks: the
# block is an event of its own, so the replay stays deterministic (these failed with "nondeterminism"
# while the block added no event). The weak 2 x 2 counter is left out: 200,000 schedules.
@pytest.mark.parametrize("name", ["counter-strong-2x2", "reads-two-locations", "gives-up-after-3",
                                  "asserts-on-a-stale-read", "plain-read-in-the-loop"])
def test_same_without_dpor(name, monkeypatch):
    test = PROGRAMS[name]
    monkeypatch.setenv("VELOX_EXPLORE_BLOCK_RETRIES", "0")
    without = outcomes_and_verdict(test, "rc11", dpor=False)
    monkeypatch.setenv("VELOX_EXPLORE_BLOCK_RETRIES", "1")
    with_rule = outcomes_and_verdict(test, "rc11", dpor=False)
    assert with_rule[:2] == without[:2]  # the blocked count differs: fewer schedules are run to the end


def test_a_load_at_the_head_retry_loop_explores_fewer_executions(monkeypatch):
    test = load_at_head_counter(2, 3, False)
    monkeypatch.setenv("VELOX_EXPLORE_BLOCK_RETRIES", "0")
    every = explore.check(test)
    monkeypatch.setenv("VELOX_EXPLORE_BLOCK_RETRIES", "1")
    blocked = explore.check(test)
    assert every.complete and blocked.complete
    assert every.executions == every.distinct == 712 and every.blocked == 0
    assert blocked.executions == blocked.distinct < every.executions and blocked.blocked > 0
    assert blocked.executions + blocked.blocked < every.executions


def test_a_loop_whose_state_changes_is_never_blocked():
    stats = explore.check(gives_up_after(3))
    assert stats.complete and stats.blocked == 0
    assert ("gave up", 3) in explore.outcomes(gives_up_after(3))


def never_succeeds(with_writer: bool):
    def test():
        x = Atomic(0, name="x")

        def loop():
            while True:
                x.load("relaxed")
                ok, _v = x.compare_exchange_strong(5, 6, "relaxed", "relaxed")
                if ok:
                    return

        def writer():
            x.store(4 + choose(2), "relaxed")  # 4: the loop never exits; 5: it does

        h = spawn(loop)
        if with_writer:
            spawn(writer).join()
        h.join()

    return test


@pytest.mark.parametrize("with_writer", [False, True])
def test_a_loop_that_can_never_exit_is_still_a_livelock(with_writer):
    with pytest.raises(ExplorationFailure) as info:
        explore.check(never_succeeds(with_writer))
    assert info.value.kind == "livelock"
    assert "retries forever" in str(info.value)
    assert "x=4" in str(info.value) if with_writer else "x=0" in str(info.value)
    # the report replays
    with pytest.raises(ExplorationFailure) as again:
        explore.check(never_succeeds(with_writer), replay=info.value.token)
    assert again.value.kind == "livelock"


def test_a_loop_that_exits_once_written_is_complete():
    def test():
        x = Atomic(0, name="x")

        def loop():
            while True:
                x.load("relaxed")
                ok, _v = x.compare_exchange_strong(5, 6, "relaxed", "relaxed")
                if ok:
                    return "done"

        h = spawn(loop)
        x.store(5, "relaxed")
        return h.join()

    stats = explore.check(test)
    assert stats.complete and stats.blocked > 0
    assert explore.outcomes(test) == {"done"}


def test_without_the_rule_the_loop_that_never_exits_hits_the_step_bound(monkeypatch):
    monkeypatch.setenv("VELOX_EXPLORE_BLOCK_RETRIES", "0")
    monkeypatch.setenv("VELOX_MAX_STEPS", "60")
    with pytest.raises(ExplorationFailure) as info:
        explore.check(never_succeeds(False))
    assert info.value.kind == "step bound"


# ------------------------------------------------------------------ mutant
def test_mutant_blocking_without_comparing_state_loses_the_give_up_outcome(monkeypatch):
    """The rule without its state comparison: block a thread that comes back to the same read after
    failing twice, whatever its state. The give-up path (its counter is state) is then never reached."""
    def check_retry(self, t, loc, order, site, args=()):
        t.after_failed_cas = False
        here = (loc.lid, order, site, args)
        mark = t.retry_mark
        t.retry_mark = (here, None, len(t.events))
        if mark is not None and mark[0] == here:
            t.assumed = t.events[mark[2]:]
            t.spinning = t.confirmed = True
            t.spin_locs = set()
            t.spin_reads = list(t.assumed)
            self.schedule_away(t)

    reference = outcomes_and_verdict(gives_up_after(3), "rc11")
    monkeypatch.setattr(Execution, "check_retry", check_retry)
    broken = outcomes_and_verdict(gives_up_after(3), "rc11")
    assert broken != reference
    assert ("gave up", 3) in reference[0] and ("gave up", 3) not in broken[0]


class Tries:
    """A retry counter kept as a class attribute: state the capture reads through the class the code names."""

    count = 0


def gives_up_counting_in_a_class(tries: int):
    def test():
        Tries.count = 0
        c = Atomic(0, name="c")

        def bump():
            while True:
                cur = c.load("relaxed")
                if Tries.count >= tries:
                    return "gave up"
                ok, _v = c.compare_exchange_strong(cur, cur + 1, "relaxed", "relaxed")
                if ok:
                    return "done"
                Tries.count += 1

        def other():
            for _ in range(tries):
                c.fetch_add(1, "relaxed")

        a, b = spawn(bump), spawn(other)
        b.join()
        return a.join()

    return test


def test_state_in_a_class_attribute_the_loop_names_is_seen(monkeypatch):
    """The loop's only changing state is ``Tries.count``: without it in the captured state, the second
    failed iteration would look like the first and be blocked, and "gave up" would never be reached."""
    monkeypatch.setenv("VELOX_EXPLORE_BLOCK_RETRIES", "0")
    every = explore.outcomes(gives_up_counting_in_a_class(2))
    monkeypatch.setenv("VELOX_EXPLORE_BLOCK_RETRIES", "1")
    assert explore.outcomes(gives_up_counting_in_a_class(2)) == every == {"gave up", "done"}


def test_mutant_capture_without_named_attributes_loses_the_give_up(monkeypatch):
    from velox.explore.rt import spin_state

    monkeypatch.setattr(spin_state, "_global_attrs", lambda code: ())
    monkeypatch.setattr(spin_state, "_attr_pairs", {})
    assert explore.outcomes(gives_up_counting_in_a_class(2)) == {"done"}


def test_a_verdict_that_relied_on_blocking_says_so():
    blocked = explore.check(load_at_head_counter(2, 2, False))
    assert blocked.complete and blocked.blocked > 0
    assert any(a.startswith("retry iterations that returned a thread to the same state were blocked")
               for a in blocked.assumptions)
    assert "assuming retry iterations" in str(blocked)
    never = explore.check(gives_up_after(3))
    assert never.complete and never.assumptions == ()


# ------------------------------------------------------------------ a generated family
def generated_retry_loop(seed: int, hint: bool = False):
    """A retry loop drawn from ``seed``: one or two locations, a load-at-the-head compare-exchange whose
    expected value is the loaded one or a constant (which may never match), an optional give-up budget
    and a second location read in the loop, against one or two writers storing or adding small values.
    With ``hint``, a failed iteration ends with ``spin_hint()`` (hints change no outcome, and make a loop
    that waits for a writer explorable without the retry rule)."""
    import random

    rng = random.Random(seed)
    nloc = rng.choice([1, 2])
    budget = rng.choice([None, None, None, 2, 3])
    constant = rng.randrange(0, 5) if rng.random() < 0.3 else None
    reads_other = nloc == 2 and rng.random() < 0.5
    order = rng.choice(["relaxed", "acquire", "seq_cst"])
    writers = [[(rng.choice([0, 0, nloc - 1]), rng.choice(["store", "add"]), rng.randrange(1, 4))
                for _ in range(rng.randint(2, 3))] for _ in range(rng.randint(1, 2))]

    def test():
        xs = [Atomic(0, name=f"x{i}") for i in range(nloc)]

        def loop():
            n = 0
            while True:
                v = xs[0].load(order)
                w = xs[1].load("relaxed") if reads_other else None
                if budget is not None:
                    if n >= budget:
                        return "gave up", w
                    n += 1
                expected = v if constant is None else constant
                ok, _v = xs[0].compare_exchange_strong(expected, expected + 10,
                                                       "seq_cst" if order == "seq_cst" else "acq_rel",
                                                       "relaxed" if order == "relaxed" else order)
                if ok:
                    return expected, w
                if hint:
                    spin_hint()

        def writer(ops):
            for loc, kind, val in ops:
                if kind == "store":
                    xs[loc].store(val, "release")
                else:
                    xs[loc].fetch_add(val, "release")

        h = spawn(loop)
        for ws in [spawn(writer, ops) for ops in writers]:
            ws.join()
        return h.join(), tuple(x.load("relaxed") for x in xs)

    return test


@pytest.mark.parametrize("seed", range(24))
def test_generated_retry_loops_agree_with_and_without_the_rule(seed, monkeypatch):
    """The reference is the loop with a spin hint after each failure and no retry rule: the same
    outcomes, and a livelock exactly where the loop can never exit. Without hint and rule, a loop that
    waits for a writer that has not run yet spins into the step bound on the first execution (the
    explorer runs the lowest thread first); where it does not, that run must agree too."""
    monkeypatch.setenv("VELOX_MAX_STEPS", "200")
    monkeypatch.setenv("VELOX_EXPLORE_BLOCK_RETRIES", "0")
    reference = outcomes_and_verdict(generated_retry_loop(seed, hint=True), "rc11")
    plain = outcomes_and_verdict(generated_retry_loop(seed), "rc11")
    monkeypatch.setenv("VELOX_EXPLORE_BLOCK_RETRIES", "1")
    with_rule = outcomes_and_verdict(generated_retry_loop(seed), "rc11")
    assert with_rule[:2] == reference[:2], f"seed {seed}"
    if plain[1:] != ("fail", "step bound"):
        assert with_rule[:2] == plain[:2], f"seed {seed}"
