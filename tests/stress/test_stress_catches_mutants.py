"""Each stress invariant and the linearizability checker catch a wrong variant.

Default gate (not marked stress): the standalone native driver
(tests/support/native/stress_main.c) is built against mutated copies of
velox/_native (edits from the mutant catalogue, velox_testing.catalogue, never the shipping
sources) and must report a violation:

* ring_pop_many_drops_wrapped: the ring driver's FIFO/no-loss check;
* book_update_load_store: the book driver's conserved-quantity check, and,
  separately, the linearizability checker on recorded histories;
* book_hint_overwritten: the book driver's exact-best-price check at
  quiescence;
* mpmc_pop_frees_early: the MPMC driver's payload / no-loss checks.

Catching a race is a matter of timing, so each check gets a few attempts
with different seeds (all printed); the unmutated build must pass the same
runs (the control).
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from velox import lincheck
from velox_testing import native as harness

#: Attempts (seeds) at least, and the wall-clock budget for more when a
#: loaded machine time-slices the threads and hides the race.
ATTEMPTS = 3
BUDGET_SECONDS = 20.0


def _violations(stdout: str) -> list[str]:
    return [ln for ln in stdout.splitlines() if "violations=" in ln and "violations=0 " not in ln]


@pytest.mark.parametrize("name", harness.STRESS_MUTANTS)
def test_stress_driver_catches_mutant(name: str) -> None:
    exe = harness.build("stress", mutant=name)
    driver = harness.DRIVER_OF[name]
    tried = []
    deadline = time.monotonic() + BUDGET_SECONDS
    for seed in range(1, 1000):
        if seed > ATTEMPTS and time.monotonic() > deadline:
            break
        r = harness.run(exe, "--driver", driver, "--seconds", "0.6", "--seed", str(seed),
                        *harness.EXTRA_ARGS.get(name, ()), timeout=120)
        tried.append(f"seed {seed}: exit {r.returncode}")
        if r.returncode == 1 and _violations(r.stdout):
            print(f"{name} caught by the {driver} driver (seed {seed}): {_violations(r.stdout)[0]}")
            return
        assert r.returncode in (0, 1), f"driver crashed on {name} (seed {seed}): {r.stdout}\n{r.stderr[-2000:]}"
    pytest.fail(f"the {driver} stress driver did not catch mutant {name} "
                f"({harness.CATALOGUE[name].description}) in {len(tried)} runs: {tried}")


def test_unmutated_drivers_pass() -> None:
    exe = harness.build("stress")
    r = harness.run(exe, "--driver", "all", "--seconds", "0.6", "--seed", "1", timeout=120)
    assert r.returncode == 0, f"the shipping code failed the stress drivers:\n{r.stdout}\n{r.stderr[-2000:]}"


def _check_dump(exe: Path, seed: int, tmp: Path) -> lincheck.WindowTotals:
    dump = tmp / f"hist-{seed}.bin"
    r = harness.run(exe, "--driver", "hist", "--seed", str(seed), "--windows", "300", "--dump", str(dump),
                    timeout=120)
    assert r.returncode in (0, 1), f"recorder crashed (seed {seed}): {r.stdout}\n{r.stderr[-2000:]}"
    ops, snaps, threads, levels, per = lincheck.read_dump(str(dump))
    return lincheck.check_windows(ops, snaps, threads=threads, levels=levels, per_window=per,
                                  base_price=1_000_000)


def test_lincheck_catches_non_atomic_book_update(tmp_path: Path) -> None:
    exe = harness.build("stress", mutant="book_update_load_store")
    deadline = time.monotonic() + BUDGET_SECONDS
    seed = 0
    while seed < 3 * ATTEMPTS or time.monotonic() < deadline:
        seed += 1
        t = _check_dump(exe, seed, tmp_path)
        if t.violations:
            print(f"caught (seed {seed}) in {t.windows} windows:\n{t.first_report}")
            assert "not linearizable" in t.first_report and "longest linearization" in t.first_report
            assert "<svg" in t.first_html and "#fb6a4a" in t.first_html  # the stuck operation drawn red
            (tmp_path / "lincheck-window.html").write_text(t.first_html)
            return
    pytest.fail(f"lincheck found no violation in {seed} recordings of the load+store book")


def test_lincheck_passes_shipping_book(tmp_path: Path) -> None:
    exe = harness.build("stress")
    for seed in (1, 2):
        t = _check_dump(exe, seed, tmp_path)
        assert t.windows == 300
        assert t.violations == 0 and t.unknown == 0, t.first_report
