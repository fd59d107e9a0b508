"""Configuration: the example loads; every problem is named with file, key path and line."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from monitor import config, configbase
from monitor.cli import main
from monitor.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]


def test_example_configuration_is_valid(capsys: pytest.CaptureFixture[str]):
    assert main(["--config", str(ROOT / "config" / "monitor.yaml"), "check"]) == 0
    out = capsys.readouterr().out
    assert "ok" in out and "13 sources" in out


BROKEN = """\
storage:
  url: sqlite:///{tmp}/x.db
fetch:
  intervall: 10m
sources:
  - name: desk
    url: https://news.example/feed.xml
    interval: often
actors:
  Hezbollah: [Hizbollah]
keywords:
  conflict: [clash]
rules:
  - name: infighting
    any: [conflict]
    channels: [slak]
channels:
  slack:
    type: webhook
    url: ${{MONITOR_TEST_UNSET_HOOK}}
"""


def test_check_names_each_of_four_problems(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.delenv("MONITOR_TEST_UNSET_HOOK", raising=False)
    path = tmp_path / "broken.yaml"
    path.write_text(BROKEN.format(tmp=tmp_path))
    assert main(["--config", str(path), "check"]) == 1
    err = capsys.readouterr().err
    lines = [x for x in err.splitlines() if x.startswith("error:")]
    assert len(lines) == 4, err
    typo, wrong_type, channel, env = lines
    assert f"{path}:4: fetch.intervall: unknown key 'intervall' (did you mean 'interval'?)" in typo
    assert f"{path}:8: sources[0].interval:" in wrong_type and "'often'" in wrong_type
    assert f"{path}:16: rules[0].channels[0]: unknown channel 'slak'" in channel
    assert "did you mean 'slack'" in channel
    assert (
        f"{path}:20: channels.slack.url: environment variable MONITOR_TEST_UNSET_HOOK "
        "is not set" in env
    )
    assert "4 problems" in err


def test_environment_values_and_defaults(tmp_path: Path):
    path = tmp_path / "c.yaml"
    path.write_text(
        "storage: {url: 'sqlite:///${DB_DIR}/m.db'}\n"
        "channels:\n  hook: {type: webhook, url: '${HOOK:-http://127.0.0.1:1/x}'}\n"
    )
    loaded = config.load(path, environ={"DB_DIR": "/srv/data"})
    assert loaded.settings.storage.url == "sqlite:////srv/data/m.db"
    hook = loaded.settings.channels["hook"]
    assert hook.url.get_secret_value() == "http://127.0.0.1:1/x"  # type: ignore[union-attr]
    assert "127.0.0.1" not in repr(hook)  # the secret is redacted


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        (90, 90.0),
        ("90s", 90.0),
        ("15m", 900.0),
        ("1h", 3600.0),
        ("2d", 172800.0),
        ("1.5h", 5400.0),
    ],
)
def test_durations(text: object, seconds: float):
    assert configbase.parse_duration(text) == seconds


@pytest.mark.parametrize("bad", ["soon", "-5m", 0, True, "10 parsecs"])
def test_bad_durations_are_rejected(bad: object):
    with pytest.raises(ValueError):
        configbase.parse_duration(bad)


def test_yaml_syntax_error_names_the_line(tmp_path: Path):
    path = tmp_path / "c.yaml"
    path.write_text("sources:\n  - name: a\n    url: [unclosed\n")
    with pytest.raises(ConfigError) as e:
        config.load(path)
    [problem] = e.value.problems
    assert problem.file == str(path) and problem.line is not None
    assert "not valid YAML" in problem.message


def test_missing_file_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    assert main(["--config", str(tmp_path / "nope.yaml"), "once"]) == 2
    assert "nope.yaml: cannot read the file" in capsys.readouterr().err


def test_config_from_environment_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    path = tmp_path / "env.yaml"
    path.write_text("sources: []\n")
    monkeypatch.setenv("MONITOR_CONFIG", str(path))
    assert main(["check"]) == 0
    assert str(path) in capsys.readouterr().out


def test_alias_claimed_by_two_actors_is_reported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    path = tmp_path / "c.yaml"
    path.write_text(
        "actors:\n"
        "  Hezbollah: [Hizbollah, Party of God]\n"
        "  Iran:\n"
        "    aliases: [IRGC, Party of God]\n"
    )
    assert main(["--config", str(path), "check"]) == 1
    err = capsys.readouterr().err
    assert f"{path}:4: actors.Iran.aliases[1]:" in err
    assert "'Party of God' of actor 'Iran' also names actor 'Hezbollah'" in err


def test_unknown_keyword_set_and_actor_in_rule(tmp_path: Path):
    path = tmp_path / "c.yaml"
    path.write_text(
        "actors: {Hezbollah: [Hizbollah]}\nkeywords: {conflict: [clash]}\n"
        "rules:\n  - name: r\n    any: [conflcit]\n    pairs: [[Hezbollah, Hamas]]\n"
    )
    with pytest.raises(ConfigError) as e:
        config.load(path)
    messages = [str(p) for p in e.value.problems]
    assert any(
        "rules[0].any[0]: unknown keyword set 'conflcit' (did you mean 'conflict'?)" in m
        for m in messages
    )
    assert any("rules[0].pairs[0][1]: unknown actor 'Hamas'" in m for m in messages)


def test_every_yaml_example_in_the_readme_is_valid(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from monitor.compiled import load_checked

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for name in set(re.findall(r"\$\{([A-Z_]+)\}", readme)):
        monkeypatch.setenv(name, "https://hooks.example/x" if name.endswith("URL") else "value")
    blocks = re.findall(r"```yaml\n(.*?)```", readme, re.S)
    assert blocks
    for i, block in enumerate(blocks):
        path = tmp_path / f"readme-{i}.yaml"
        path.write_text(block, encoding="utf-8")
        loaded, engine = load_checked(path)
        if "rules:" in block:  # a block that shows rules: they compile (others are sections)
            assert loaded.settings.rules and engine.rules


def test_a_problem_the_rules_compiler_finds_names_its_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    """Some problems show only when the rules are compiled, after the file has loaded; they
    are named with file, key path and line all the same."""
    path = tmp_path / "rules.yaml"
    path.write_text(
        f"""storage:
  url: sqlite:///{tmp_path}/m.db
actors:
  Hezbollah:
    aliases: [Hizbollah]
  Assad regime:
    aliases: [regime forces]
keywords:
  conflict:
    terms:
      - clashes
      - "..."
rules:
  - name: infighting
    any: [conflict]
"""
    )
    assert main(["--config", str(path), "check"]) == 1
    err = capsys.readouterr().err
    assert f"{path}:12: keywords.conflict.terms[1]: term '...' has no words to match" in err


def test_certificate_authority_files_are_read_relative_to_the_configuration(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    (tmp_path / "certs").mkdir()
    (tmp_path / "certs" / "junk.pem").write_text("not a certificate\n")
    path = tmp_path / "c.yaml"
    path.write_text(
        f"""storage:
  url: sqlite:///{tmp_path}/m.db
fetch:
  ca_certificates:
    - certs/junk.pem
    - certs/missing.pem
"""
    )
    assert main(["--config", str(path), "check"]) == 1
    err = capsys.readouterr().err
    junk, missing = (tmp_path / "certs" / "junk.pem"), (tmp_path / "certs" / "missing.pem")
    assert f"{path}:5: fetch.ca_certificates[0]: cannot use '{junk}': no PEM certificate" in err
    assert f"{path}:6: fetch.ca_certificates[1]: cannot use '{missing}': No such file" in err


# ------------------------------------------------------------- conflict classes, dated names


def _problems(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "c.yaml"
    path.write_text(text)
    from monitor.compiled import load_checked

    with pytest.raises(ConfigError) as e:
        load_checked(path)
    return [str(p) for p in e.value.problems]


def test_a_name_may_mean_two_actors_in_turn_but_not_at_once(tmp_path: Path):
    ok = tmp_path / "ok.yaml"
    ok.write_text(
        "actors:\n"
        "  Old army: {aliases: [{name: National army, until: 2024-12-08}]}\n"
        "  New army: {aliases: [{name: National army, since: 2024-12-08}]}\n"
    )
    from monitor.compiled import load_checked

    load_checked(ok)  # one after the other: fine
    problems = _problems(
        tmp_path,
        "actors:\n"
        "  Old army: {aliases: [{name: National army, until: 2025-01-01}]}\n"
        "  New army: {aliases: [{name: National army, since: 2024-12-08}]}\n",
    )
    assert len(problems) == 1
    assert "c.yaml:3: actors['New army'].aliases[0]" in problems[0]
    assert "one actor at a time (give each a 'since' or 'until' date)" in problems[0]


def test_a_dated_name_needs_a_date_in_order(tmp_path: Path):
    problems = _problems(
        tmp_path,
        "actors:\n"
        "  A: {aliases: [{name: Alpha}]}\n"
        "  B: {aliases: [{name: Beta, since: 2025-01-01, until: 2024-01-01}]}\n",
    )
    assert len(problems) == 2
    assert "needs 'since' or 'until'" in problems[0]
    assert "'since' must come before 'until'" in problems[1]


def test_conflict_classes_are_checked(tmp_path: Path):
    problems = _problems(
        tmp_path,
        "keywords:\n  assault: [raid]\n"
        "conflict:\n"
        "  assault: {verbs: [attack]}\n"
        "  empty: {mutual: true}\n"
        "  fight: {nouns: [clash], confirm: [no-such-set]}\n"
        "rules:\n  - {name: r, any: [assault, nothing]}\n",
    )
    text = "\n".join(problems)
    assert "conflict.empty: a conflict class needs 'verbs' or 'nouns'" in text
    assert "conflict.fight.confirm[0]: unknown keyword set 'no-such-set'" in text
    assert "rules[0].any[1]: unknown keyword set 'nothing'" in text
    assert "'assault' is both a conflict class and a keyword set" in text


def test_untracked_actors_cannot_be_named_by_rules(tmp_path: Path):
    problems = _problems(
        tmp_path,
        "actors:\n  Israel: {track: false}\n  Hezbollah: [Hizbollah]\n"
        "keywords:\n  conflict: [clash]\n"
        "rules:\n  - {name: r, any: [conflict], actors: [Israel, Hezbollah]}\n",
    )
    assert (
        len(problems) == 1 and "rules[0].actors[0]: unknown tracked actor 'Israel'" in problems[0]
    )
