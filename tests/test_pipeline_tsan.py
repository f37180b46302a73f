"""The native pipeline under ThreadSanitizer (tests/support/native/
pipeline_main.c, source set "pipeline", profile "tsan"), and proof that this
gate can fail: the catalogue's "pipeline-tsan" mutant must make TSan report a
race."""

from __future__ import annotations

import pytest

from velox_testing import native
from velox_testing.catalogue import for_gate

_WHY_NOT = native.tsan_available()
pytestmark = pytest.mark.skipif(_WHY_NOT is not None, reason=f"ThreadSanitizer unavailable: {_WHY_NOT}")


def run_tsan(exe, *args: object):
    return native.run(exe, *args, timeout=120)


@pytest.fixture(scope="module")
def tsan_exe():
    """The shipping pipeline under TSan (cached by content in the build cache)."""
    return native.build("pipeline", tsan=True)


# args: seconds seed topology wait saturate price_mode ring batch
@pytest.mark.parametrize("topology", [1, 2, 3, 4], ids=["single", "pairs", "split", "stages"])
def test_tsan_clean(tsan_exe, topology):
    res = run_tsan(tsan_exe, 0.3, 17, topology, 1, 1, topology % 2, 256, 16)
    assert res.returncode == 0, f"seed 17 topology {topology}:\n{res.stdout}\n{res.stderr[-4000:]}"
    assert "violations 0" in res.stdout


def test_tsan_catches_publish_before_write():
    """The TSan gate can fail: a book stage that publishes its batch before
    writing the slots races with the bundle stage reading them."""
    assert [m.name for m in for_gate("pipeline-tsan")] == ["pipeline_commit_before_write"]
    exe = native.build("pipeline", mutant="pipeline_commit_before_write", tsan=True)
    res = run_tsan(exe, 0.3, 17, 2, 1, 1, 0, 256, 16)
    assert res.returncode == 66, res.stdout + res.stderr[-2000:]
    assert "data race" in res.stderr


