"""`monitor once` beside the floor (``../shared/bench/floor.py``, a minimal poller) on the same
1,000-feed farm, in one run: cold and warm passes of each, interleaved, each timed as a whole
process (start-up included), median of 3, and the ratio (issue #25: cold <= 1.5x, warm <= 2x).

python -m benchmarks.floor_compare [--feeds N] [--repeat N]

The floor runs in its own virtual environment (aiohttp, fastfeedparser, aiosqlite, uvloop from
PyPI), made under benchmarks/out on first use, as ../shared/bench/README.md sets it up.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

import yaml

from benchmarks.feed_farm import (
    ROOT,
    _farm_config,
    _farm_files,
    compile_package,
    run_pass,
    start_nginx,
)

FLOOR = ROOT.parent / "shared" / "bench" / "floor.py"
FLOOR_ENV = ROOT / "benchmarks" / "out" / "floor-venv"
FLOOR_PACKAGES = ["aiohttp", "fastfeedparser", "aiosqlite", "uvloop"]


def floor_python() -> Path:
    """The floor's interpreter, its environment made on first use."""
    python = FLOOR_ENV / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(FLOOR_ENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", *FLOOR_PACKAGES], check=True)
    return python


def floor_pass(python: Path, urls: Path, db: Path) -> float:
    """One pass of the floor as a whole process: its wall seconds."""
    t = time.perf_counter()
    done = subprocess.run(
        [
            str(python),
            str(FLOOR),
            str(urls),
            "--db",
            str(db),
            "--conc",
            "64",
            "--parse",
            "fast",
            "--client",
            "aiohttp",
            "--uvloop",
        ],
        capture_output=True,
        text=True,
    )
    wall = time.perf_counter() - t
    if done.returncode != 0:
        raise SystemExit(f"floor.py exited {done.returncode}: {done.stderr[-2000:]}")
    return wall


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--feeds", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    if not FLOOR.exists():
        print(f"no floor at {FLOOR}: nothing to compare with", file=sys.stderr)
        return 0
    python = floor_python()
    compile_package()
    work, root = _farm_files(f"floor-{a.feeds}", a.feeds, a.seed)
    nginx, port = start_nginx(work, root)
    try:
        urls = work / "urls.txt"
        urls.write_text(
            "".join(f"http://127.0.0.1:{port}/f{f}.xml\n" for f in range(a.feeds)),
            encoding="utf-8",
        )
        config = work / "monitor.yaml"
        base = _farm_config(a.feeds, port)
        base["storage"] = {"url": f"sqlite:///{work}/monitor.db"}
        config.write_text(yaml.safe_dump(base, allow_unicode=True), encoding="utf-8")
        passes: dict[str, list[float]] = {k: [] for k in ("fc", "fw", "mc", "mw")}
        for _ in range(a.repeat):  # interleaved: the machine's drift falls on both
            for pattern in ("floor.db*", "monitor.db*"):
                for f in work.glob(pattern):
                    f.unlink()
            passes["fc"].append(floor_pass(python, urls, work / "floor.db"))
            passes["mc"].append(float(run_pass(config)["wall"]))
            passes["fw"].append(floor_pass(python, urls, work / "floor.db"))
            passes["mw"].append(float(run_pass(config)["wall"]))
        med = {k: statistics.median(v) for k, v in passes.items()}
        print(
            f"beside the floor: {a.feeds} feeds x 20 items, nginx 127.0.0.1:{port}, "
            f"median of {a.repeat}, whole processes"
        )
        for name, floor, mine, target in (("cold", "fc", "mc", 1.5), ("warm", "fw", "mw", 2.0)):
            print(
                f"  {name}  floor {med[floor]:5.2f} s  monitor once {med[mine]:5.2f} s  "
                f"ratio {med[mine] / med[floor]:4.1f}x  (target <= {target}x)"
            )
    finally:
        nginx.send_signal(signal.SIGQUIT)
        nginx.wait(timeout=10)
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
