"""The ``velox`` command line: one subcommand per job, each in its own module.

Each entry names the module whose ``main(argv) -> int`` runs the subcommand;
modules are imported only when their subcommand runs, so ``velox --help``
stays fast and one broken subcommand cannot break the others.
"""

from __future__ import annotations

import importlib
import sys

#: name -> (module with main(argv), one-line description)
COMMANDS: dict[str, tuple[str, str]] = {
    "run": ("velox._run", "run the pipeline (ingress -> order book -> bundles -> output) and check its invariants"),
    "litmus": ("velox.explore.litmus.cli", "run herd-format C litmus tests under RC11 or SC, herd7's output layout"),
    "verify": ("velox._verify", "check that a 'velox run --output' file is complete and valid (trailer, checksum, FIFO)"),
    "report": ("velox._report_cli", "HTML report and Markdown summary of run JSON files, with a baseline verdict"),
    "bench": ("velox._bench_cli", "benchmark the native SPSC ring (two pinned threads, peer, core-to-core round trip)"),
}

USAGE = """usage: velox COMMAND [options]

velox: a correctness lab for lock-free data structures.

commands:
{commands}

Run 'velox COMMAND --help' for a command's options.
"""


def _usage() -> str:
    width = max(len(n) for n in COMMANDS)
    lines = [f"  {name:<{width}}  {desc}" for name, (_, desc) in COMMANDS.items()]
    return USAGE.format(commands="\n".join(lines))


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(_usage(), end="")
        return 0
    if argv[0] in ("-V", "--version"):
        from . import __version__

        print(f"velox {__version__}")
        return 0
    name, rest = argv[0], argv[1:]
    if name not in COMMANDS:
        print(f"velox: unknown command {name!r}\n", file=sys.stderr)
        print(_usage(), end="", file=sys.stderr)
        return 2
    module = importlib.import_module(COMMANDS[name][0])
    return int(module.main(rest) or 0)


if __name__ == "__main__":
    sys.exit(main())
