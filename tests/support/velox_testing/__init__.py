"""velox_testing: what velox's tests, benches and ci scripts share.

Importable because pyproject's pytest section puts ``tests/support`` on
``pythonpath`` (scripts outside pytest set ``PYTHONPATH=tests/support``).
Nothing here ships with velox.

* ``catalogue``: the native mutants, each with the gates that must catch it
  (``caught_by``, the one mutant-to-gate map);
* ``mutants``: builds a mutant of the production extension and imports it
  beside the real one; ``run_isolated`` runs a check in a child process;
* ``model_mutants``: model builds (``-DVX_MODEL``) of catalogued mutants;
* ``native``: the standalone C drivers (stress, pipeline, bench harness), plain
  or under ThreadSanitizer, shipping or mutated;
* ``stress``: the test-only native stress drivers and history recorder (the
  extension ``velox_testing._stress``, built on first import);
* ``explore_c``: test bodies that run velox's C core under the explorer;
  ``shapes``: the classic memory-model shapes as explorer test bodies;
* ``cheaders``: constants and prototypes read from the C headers;
* ``realcomponents``: skip-or-fail helpers for tests that need real programs.

Every build goes through ``velox/_native/_build.py`` (source sets, flag
profiles, the content-addressed cache).
"""
