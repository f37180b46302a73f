"""Replay tokens as untrusted input: a garbage VELOX_EXPLORE_REPLAY names the
variable, a token that does not fit the test is blamed (never replayed as a
quiet INCOMPLETE), and decoding is bounded in time and memory."""

from __future__ import annotations

import base64
import json
import tracemalloc
import zlib

import pytest

from velox.explore import Atomic, ExplorationFailure, check, spawn
from velox.explore._trace import MAX_TOKEN_CHARS, decode_token, encode_token
from velox_testing.shapes import mp_checked

#: a relaxed message pass whose failing token the tests corrupt
stale = mp_checked("relaxed", "relaxed")


def fixed():
    c = Atomic(0)
    t = spawn(lambda: c.store(1, "release"))
    c.load("acquire")
    t.join()


def _token(obj) -> str:
    return "vx1." + base64.urlsafe_b64encode(zlib.compress(json.dumps(obj).encode())).decode().rstrip("=")


def test_garbage_in_the_environment_names_the_variable(monkeypatch):
    monkeypatch.setenv("VELOX_EXPLORE_REPLAY", "garbage")
    with pytest.raises(ValueError, match=r"^VELOX_EXPLORE_REPLAY: not a velox.explore replay token"):
        check(fixed)


def test_token_that_does_not_fit_the_test_is_blamed():
    with pytest.raises(ExplorationFailure) as first:
        check(stale)
    name = decode_token(first.value.token)[1]
    # Well-formed, right test name, but choices that this test cannot make.
    bad = encode_token("rc11", name, [(7, None, None)] * 3)
    with pytest.raises(ValueError, match="replay token does not fit this test"):
        check(stale, replay=bad)
    # A prefix of the real token that stops early is not a failing replay either: say so.
    _, _, items = decode_token(first.value.token)
    short = encode_token("rc11", name, items[:2])
    with pytest.raises(ValueError, match="replay token does not fit this test"):
        check(stale, replay=short)


@pytest.mark.parametrize("obj,match", [
    ({"m": "rc11", "n": "x", "i": "nope"}, "corrupt"),
    ({"m": "rc11", "n": "x", "i": [[0, 0, 99]]}, "corrupt"),
    ({"m": "rc11"}, "corrupt"),
    ([1, 2, 3], "corrupt"),
])
def test_malformed_token_contents(obj, match):
    with pytest.raises(ValueError, match=match):
        decode_token(_token(obj))


def test_token_size_is_bounded():
    with pytest.raises(ValueError, match="longer than"):
        decode_token("vx1." + "A" * (MAX_TOKEN_CHARS + 1))
    # A small token that inflates to a huge document (a zip bomb) is refused cheaply.
    bomb = "vx1." + base64.urlsafe_b64encode(zlib.compress(b"[" + b"0," * 50_000_000 + b"0]", 9)).decode()
    assert len(bomb) < MAX_TOKEN_CHARS
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match="inflates past"):
            decode_token(bomb)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 64 << 20, f"decoding took {peak >> 20} MB"


def test_deeply_nested_choice_is_clean():
    raw = ('{"m":"rc11","n":"x","i":[[0,' + "[" * 100_000 + "]" * 100_000 + ",1]]}").encode()
    token = "vx1." + base64.urlsafe_b64encode(zlib.compress(raw, 9)).decode().rstrip("=")
    with pytest.raises(ValueError, match="corrupt"):
        decode_token(token)
