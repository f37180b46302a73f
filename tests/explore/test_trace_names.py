"""Trace tables name Python objects by a short name that is the same in every run
(type and order of first appearance), never by their address."""

from __future__ import annotations

import re

import pytest

from velox import explore


class Node:
    def __init__(self, value):
        self.value = value


def test_python_objects_in_a_trace_have_short_stable_names():
    def body():
        head = explore.Atomic(None, name="head")
        a, b = Node(1), Node(2)

        def push(n):
            head.store(n, "relaxed")

        t1, t2 = explore.spawn(push, a), explore.spawn(push, b)
        t1.join()
        t2.join()
        assert head.load("relaxed") is a

    texts = []
    for _ in range(2):
        with pytest.raises(explore.ExplorationFailure) as info:
            explore.check(body)
        texts.append(str(info.value).split("ASSERTION:")[0])  # the table, not the assertion text
    trace = texts[0]
    assert "Node#0" in trace and "Node#1" in trace, trace
    assert not re.search(r"0x[0-9a-f]{6,}", trace), trace
    assert texts[0] == texts[1]
