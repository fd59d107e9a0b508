"""Start-up of each command: the wall time of a fresh `monitor …` process, median of 5, on the
shipped configuration and an empty SQLite database (issue #25's targets beside).

python benchmarks/start.py [--repeat N]
"""

from __future__ import annotations

import argparse
import compileall
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MONITOR = [sys.executable, "-m", "monitor"]
CONFIG = ["--config", str(ROOT / "config" / "monitor.yaml")]
#: (what is run, its target in seconds or None)
COMMANDS: list[tuple[list[str], float | None]] = [
    (["version"], 0.1),
    (["help"], None),
    ([*CONFIG, "alerts", "--json"], 0.25),
    ([*CONFIG, "articles", "--json"], None),
    ([*CONFIG, "status"], None),
    ([*CONFIG, "check"], 0.6),
    ([*CONFIG, "check", "--model"], None),
]


def run(args: list[str], env: dict[str, str]) -> float:
    """Wall seconds of one command."""
    t = time.perf_counter()
    done = subprocess.run([*MONITOR, *args], env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(args)}: exit {done.returncode}\n{done.stderr}")
    return wall


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=5)
    a = ap.parse_args()
    # the bytecode an installed package has (as feed_farm.compile_package says)
    compileall.compile_dir(ROOT / "monitor", quiet=1)
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "MONITOR_DATABASE": f"sqlite:///{tmp}/monitor.db"}
        subprocess.run([*MONITOR, *CONFIG, "status"], env=env, capture_output=True)  # migrate
        print(f"start-up, median of {a.repeat} (a fresh process each; shipped configuration)")
        for args, target in COMMANDS:
            wall = statistics.median(run(args, env) for _ in range(a.repeat))
            shown = " ".join(x for x in args if not x.startswith(("--config", "/")))
            goal = f"target <= {target:.2f} s" if target is not None else ""
            print(f"  monitor {shown:<22} {wall:6.2f} s  {goal}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
