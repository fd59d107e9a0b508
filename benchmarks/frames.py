"""Detection by sentence frame: found / false alarms per frame of tests/frames/frames.yaml.

python benchmarks/frames.py [--wrong]
"""

from __future__ import annotations

import sys
from pathlib import Path

import yaml

from monitor import config
from monitor.match import frames
from monitor.match.compiler import compile_rules

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    engine = compile_rules(config.load(ROOT / "config" / "monitor.yaml", delivering=False).settings)
    table = yaml.safe_load((ROOT / "tests" / "frames" / "frames.yaml").read_text())
    results = frames.run(engine, table)
    print("\n".join(frames.report_lines(results)))
    if "--wrong" in sys.argv:
        for r in results:
            for w in r.wrong:
                print(f"  {r.frame}: {w}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
