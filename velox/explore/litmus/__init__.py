"""herdtools7 C litmus tests: parse them, run them on the explorer, print herd7's layout.

The front end has three parts, in the order a test flows through them:

* ``parse_litmus(text, filename)`` turns the herd C dialect into a small AST
  (``LitmusTest``): the initial state, one ``Process`` per ``Pn`` body, the
  ``locations``/``filter`` clauses and the final condition. Anything outside the
  supported subset is a ``LitmusError`` naming the file, the line and the
  construct; nothing is guessed.
* ``thread_program(test, pid)`` interprets one process as a Python generator
  that yields one ``Op`` per shared-memory access and receives the value read.
  ``make_test(test, api)`` drives those generators with the explorer's
  ``Atomic``/``Cell``/``spawn``/``fence`` (``api`` is ``velox.explore`` unless a
  test substitutes another backend) and returns the ``test()`` callable the
  engine explores. Its outcome is the final state herd would display.
* ``run_litmus`` counts executions per final state (``outcome_counts``) and
  ``format_result`` prints them the way herd7 does: ``Test``, ``States``, the
  sorted states, ``Ok``/``No``/``Undef``, ``Witnesses``, ``Positive``/``Negative``,
  ``Condition``, ``Observation``, ``Time`` and ``Hash``.

Modules: ``ast`` (the AST and ``LitmusError``), ``parse`` (the parser), ``run``
(interpreter, engine backend, counting), ``herd`` (the printer) and ``cli``
(``velox litmus``); this package re-exports their public names.

See ``docs/litmus.md`` for the subset, the semantic choices and where the output
differs from herd7 (the ``Hash`` value).
"""

from __future__ import annotations

from .ast import (  # noqa: F401
    Access,
    And,
    Assign,
    Atom,
    BinOp,
    Condition,
    Const,
    ExprStmt,
    If,
    Implies,
    LitmusError,
    LitmusTest,
    Loc,
    Not,
    Or,
    Process,
    Reg,
    UnOp,
    prop_locations,
)
from .herd import (  # noqa: F401
    format_condition,
    format_prop,
    format_result,
    format_state,
    format_value,
    litmus_hash,
)
from .parse import parse_litmus, tokenize  # noqa: F401
from .run import (  # noqa: F401
    LitmusResult,
    Op,
    Outcome,
    eval_prop,
    final_outcome,
    make_test,
    run_litmus,
    tally,
    thread_program,
)
