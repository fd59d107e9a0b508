"""``python -m monitor`` and the ``monitor`` command.

Start-up makes tens of thousands of objects that live as long as the process (modules, the
configuration, compiled rules). The cyclic collector, running while they are made, would scan
them again and again and find nothing; so it is off while the modules load (here) and while the
command loads what it needs (``cli.main``), after which they are frozen out of its way: Python's
recipe for a process that forks workers (the ``gc`` module's documentation, ``gc.freeze``).
Figures: benchmarks/README.md.
"""

from __future__ import annotations

import gc


def main() -> int:
    gc.disable()
    from monitor.cli import main as command

    return command()


if __name__ == "__main__":
    raise SystemExit(main())
