"""Replay tokens name the exact test: replaying one against another test is refused."""

from __future__ import annotations

import pytest

from velox import explore
from velox.explore._trace import decode_token


def racy():
    x = explore.Cell(0, name="x")

    def w():
        x.set(1)

    h = explore.spawn(w)
    x.set(2)
    h.join()


def other():
    racy()


def test_token_names_module_and_qualified_name():
    with pytest.raises(explore.ExplorationFailure) as info:
        explore.check(racy)
    _model, name, _items = decode_token(info.value.token)
    assert name == f"{__name__}.racy"


def test_token_of_another_test_is_refused():
    with pytest.raises(explore.ExplorationFailure) as info:
        explore.check(racy)
    with pytest.raises(ValueError, match=r"recorded for the test .*\.racy, not .*\.other"):
        explore.check(other, replay=info.value.token)


def test_token_replays_its_own_test():
    with pytest.raises(explore.ExplorationFailure) as info:
        explore.check(racy)
    with pytest.raises(explore.ExplorationFailure) as again:
        explore.check(racy, replay=info.value.token)
    assert again.value.kind == "data race"
