"""Fault injection helpers: run ``velox run`` in a child process, break its
world (full disk, closed or broken stdout, signals, a FIFO nobody reads) and
hand back everything it left behind, so the tests can check that the verdict,
the exit status and the files tell the truth.

Every randomized choice comes from one seed, printed with the test's output
(``VELOX_FAULT_SEED`` replays a run)."""

from __future__ import annotations

import os
import random
import resource
import signal
import subprocess
import sys
from dataclasses import dataclass

import pytest

VELOX = [sys.executable, "-m", "velox"]
#: Short, deterministic runs (the wall-clock flush bound stays off).
QUICK = ["--seed", "11", "--quiet"]


@dataclass
class Outcome:
    rc: int
    stdout: str
    stderr: str

    def __str__(self) -> str:
        return f"exit {self.rc}\n--- stdout\n{self.stdout}\n--- stderr\n{self.stderr}"


def run(args: list[str], *, timeout: float = 120, preexec=None, stdout=subprocess.PIPE, **kw) -> Outcome:
    p = subprocess.run(VELOX + args, stdout=stdout, stderr=subprocess.PIPE, text=True, timeout=timeout,
                       preexec_fn=preexec, **kw)
    return Outcome(p.returncode, p.stdout or "", p.stderr)


def verify(path: str) -> Outcome:
    return run(["verify", path], timeout=120)


def file_size_limit(limit: int):
    """preexec_fn: the disk is 'full' after `limit` bytes of any one file
    (RLIMIT_FSIZE; SIGXFSZ ignored so write() fails with EFBIG instead)."""

    def apply() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


@pytest.fixture
def fault_rng(request) -> random.Random:
    seed = int(os.environ.get("VELOX_FAULT_SEED", random.randrange(1 << 32)))
    print(f"fault-injection seed {seed} (replay: VELOX_FAULT_SEED={seed} pytest '{request.node.nodeid}')")
    return random.Random(seed)
