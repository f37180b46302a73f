"""Coverage-guided fuzzing of the decoders of untrusted input (atheris):
the litmus parser, wire records (Transaction.from_bytes, push_many, the
output-file verifier) and replay tokens. A short bounded run per target in
the default gate; long runs under ``-m stress`` (as long as --stress-seconds
or the --stress-budget share; VELOX_FUZZ_SECONDS overrides). Each run prints its libFuzzer seed and how many inputs it
tried; a finding fails the test and leaves the input in crash-*."""

from __future__ import annotations

import os
import random
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
LITMUS_SEEDS = HERE.parent / "explore" / "litmus"

try:
    import atheris  # noqa: F401
except ImportError:  # pragma: no cover - the test extra installs it
    if os.environ.get("CI") == "true":
        raise
    pytest.skip("atheris is not installed (pip install -e '.[test]')", allow_module_level=True)


def fuzz(target: str, seconds: float, tmp_path: Path) -> tuple[int, int, str]:
    seed = int(os.environ.get("VELOX_FUZZ_SEED", random.randrange(1, 1 << 31)))
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    if target == "litmus":
        for f in LITMUS_SEEDS.glob("*.litmus"):
            shutil.copy(f, corpus)
    cmd = [sys.executable, str(HERE / "targets.py"), target, f"-seed={seed}", f"-max_total_time={seconds:g}",
           "-timeout=20", "-rss_limit_mb=2048", str(corpus)]
    p = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=seconds + 300)
    m = re.search(r"Done (\d+) runs", p.stderr)
    runs = int(m.group(1)) if m else 0
    print(f"fuzz {target}: seed {seed}, {runs} inputs in {seconds:g} s, exit {p.returncode} "
          f"(replay: VELOX_FUZZ_SEED={seed})")
    return p.returncode, runs, p.stdout + p.stderr


@pytest.mark.parametrize("target", ["litmus", "wire", "token"])
def test_fuzz_short(target, tmp_path):
    rc, runs, err = fuzz(target, 2, tmp_path)
    crashes = list(tmp_path.glob("crash-*")) + list(tmp_path.glob("timeout-*")) + list(tmp_path.glob("oom-*"))
    assert rc == 0 and not crashes, f"finding in {target}: {crashes}\n{err[-3000:]}"
    assert runs > 0


@pytest.mark.stress
@pytest.mark.parametrize("target", ["litmus", "wire", "token"])
def test_fuzz_long(target, tmp_path, stress_seconds):
    seconds = float(os.environ.get("VELOX_FUZZ_SECONDS", stress_seconds))
    rc, runs, err = fuzz(target, seconds, tmp_path)
    crashes = list(tmp_path.glob("crash-*")) + list(tmp_path.glob("timeout-*")) + list(tmp_path.glob("oom-*"))
    assert rc == 0 and not crashes, f"finding in {target}: {crashes}\n{err[-3000:]}"


def test_a_finding_fails_the_run(tmp_path):
    """The harness is a real gate: a decoder that crashes is reported."""
    rc, _, err = fuzz("selftest", 30, tmp_path)
    assert rc != 0 and "selftest finding" in err
    assert list(tmp_path.glob("crash-*"))
