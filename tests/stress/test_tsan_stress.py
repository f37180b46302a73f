"""Long ThreadSanitizer runs of the native stress drivers (the short one is
tests/test_tsan.py in the default gate). One shard per driver, so xdist
spreads them; each runs for the stress length."""

from __future__ import annotations

import pytest

from velox_testing import native as harness

pytestmark = pytest.mark.stress

_WHY_NOT = harness.tsan_available()


@pytest.mark.skipif(_WHY_NOT is not None, reason=f"ThreadSanitizer unavailable: {_WHY_NOT}")
@pytest.mark.parametrize("driver", ["ring", "book", "mpmc", "hist"])
def test_tsan_long(driver: str, stress_seconds: float, stress_seed: int, stress_tally) -> None:
    exe = harness.build("stress", tsan=True)
    tally = stress_tally(driver=driver, sanitizer="thread")
    args = ["--driver", driver, "--seconds", f"{stress_seconds:g}", "--seed", str(stress_seed)]
    if driver == "hist":
        args += ["--windows", "2000"]  # per batch; batches repeat for the run length
    r = harness.run(exe, *args, timeout=stress_seconds * 4 + 120)
    for line in r.stdout.splitlines():
        if "ops=" in line:
            fields = dict(kv.split("=", 1) for kv in line.split() if "=" in kv and kv.split("=", 1)[1].isdigit())
            tally.add({"ops": int(fields.get("ops", 0)), "checks": int(fields.get("checks", 0)),
                       "violations": int(fields.get("violations", 0)), "timeouts": int(fields.get("timeouts", 0))})
    assert "ThreadSanitizer" not in r.stderr, (
        f"TSan reported a race (seed {stress_seed}; reproduce: ci/tsan.sh {stress_seconds:g} {stress_seed}):\n"
        + r.stderr[-6000:])
    assert r.returncode == 0, f"exit {r.returncode}\n{r.stdout}\n{r.stderr[-3000:]}\n{tally.failure_message()}"
