"""Native mutants: deliberately wrong builds of velox's C core and binding.

``catalogue.py`` lists them (exact-text edits on a copy of velox/_native/),
``build.py`` builds one and imports it beside the real extension. Import as
``from mutants.build import build_core_mutant`` with ``tests/`` on sys.path
(pytest puts it there for tests under tests/; tests/stateful/conftest.py too).
"""
