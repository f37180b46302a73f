"""The short ThreadSanitizer run in the default gate.

Builds the native stress drivers standalone with gcc -fsanitize=thread
(velox_testing.native, as ci/tsan.sh does) and runs each driver
briefly: TSan sees ordering races that x86's strong memory model hides from
plain stress runs. Proof that it can fail: the catalogue's "tsan" mutants
(a relaxed publish in the SPSC ring and in the MPMC ring) must each make TSan
report a race. Long TSan runs are tests/stress/test_tsan_stress.py
(``-m stress``). Skipped, with the reason, only when the compiler cannot
build or run TSan programs.
"""

from __future__ import annotations

import pytest

from velox_testing import native as harness

_WHY_NOT = harness.tsan_available()
pytestmark = pytest.mark.skipif(_WHY_NOT is not None, reason=f"ThreadSanitizer unavailable: {_WHY_NOT}")


def test_tsan_short_run_is_clean() -> None:
    exe = harness.build("stress", tsan=True)
    r = harness.run(exe, "--driver", "all", "--seconds", "0.3", "--seed", "1", "--windows", "100", timeout=300)
    assert "ThreadSanitizer" not in r.stderr, f"TSan reported a race (reproduce: ci/tsan.sh 1 1):\n{r.stderr[-6000:]}"
    assert r.returncode == 0, f"exit {r.returncode}\n{r.stdout}\n{r.stderr[-2000:]}"
    assert "OK: no violation" in r.stdout


@pytest.mark.parametrize("name", harness.TSAN_MUTANTS)
def test_tsan_catches_relaxed_publish(name: str) -> None:
    exe = harness.build("stress", mutant=name, tsan=True)
    r = harness.run(exe, "--driver", harness.DRIVER_OF[name], "--seconds", "0.5", "--seed", "1", timeout=300)
    assert "WARNING: ThreadSanitizer: data race" in r.stderr, (
        f"TSan did not flag mutant {name} ({harness.CATALOGUE[name].description}); exit {r.returncode}\n"
        f"{r.stdout}\n{r.stderr[-2000:]}")
    assert r.returncode == 66  # TSan's exit code with halt_on_error
