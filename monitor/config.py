"""YAML configuration → validated, typed settings.

The file is read once, ``${VAR}`` (or ``${VAR:-default}``) in string values is taken from the
environment, and the result is validated with pydantic. Every problem found is reported at once,
each naming the file, the key path (``rules[0].channels[1]``), the line and what was expected.
Nothing here touches the network or the database. The settings' models (what each key means,
its default) are ``monitor.settings``'s, re-exported here.
"""

from __future__ import annotations

import difflib
import functools
import os
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import (
    BaseModel,
    ValidationError,
)

from monitor.configbase import ChannelSettingsBase
from monitor.configpath import DEFAULT_PATH, ENV_VAR, resolve_path
from monitor.errors import ConfigError, ConfigProblem
from monitor.fetchsettings import FetchSettings
from monitor.settings import (
    TARGET_PREPOSITIONS,
    ActorSettings,
    ConflictClassSettings,
    DaemonSettings,
    DatedName,
    DeliverySettings,
    HealthSettings,
    KeywordSetSettings,
    LinkSettings,
    NlpSettings,
    OpmlSourcesSettings,
    Registries,
    RetentionSettings,
    RuleSettings,
    Settings,
    SourceSettings,
    StorageSettings,
)

#: the settings' models live in ``monitor.settings``; read them from here, as ever
__all__ = [
    "DEFAULT_PATH",
    "ENV_VAR",
    "TARGET_PREPOSITIONS",
    "ActorSettings",
    "ConflictClassSettings",
    "DaemonSettings",
    "DatedName",
    "DeliverySettings",
    "FetchSettings",
    "HealthSettings",
    "KeywordSetSettings",
    "LinkSettings",
    "LoadedConfig",
    "NlpSettings",
    "OpmlSourcesSettings",
    "Registries",
    "RetentionSettings",
    "RuleSettings",
    "Settings",
    "SourceSettings",
    "StorageSettings",
    "load",
    "resolve_path",
    "sort_problems",
]


@dataclass(frozen=True)
class LoadedConfig:
    """Validated settings, and where each key was written (for later stages' error messages)."""

    settings: Settings
    path: Path
    #: the file's text, as read
    text: str

    @functools.cached_property
    def lines(self) -> dict[tuple[Any, ...], int]:
        """Where each key is in the file: read again (only an error message needs it)."""
        return _lines_of(self.text)

    def problem(self, loc: tuple[Any, ...], message: str) -> ConfigProblem:
        return ConfigProblem(str(self.path), format_path(loc), message, _line_for(self.lines, loc))


# ---------------------------------------------------------------------------------------------
# loading


def _split_opml(
    data: dict[str, Any],
    base: Path,
    problem: Callable[[tuple[Any, ...], str], None],
    context: dict[str, Any],
) -> tuple[dict[str, Any], list[tuple[OpmlSourcesSettings, list[Any]]], list[int]]:
    """Take ``- opml: FILE`` entries out of ``sources`` (read and checked here, with the
    validation ``context``); the other entries' positions in the file, for error messages."""
    sources = data.get("sources")
    if not isinstance(sources, list):
        return data, [], []
    kept, positions, lists = [], [], []
    for i, entry in enumerate(sources):
        if not (isinstance(entry, dict) and "opml" in entry):
            kept.append(entry)
            positions.append(i)
            continue
        try:
            spec = OpmlSourcesSettings.model_validate(entry, context=context)
        except ValidationError as e:
            for err in e.errors():
                problem(("sources", i, *err["loc"]), err["msg"])
            continue
        from monitor.opml import OpmlError, read_opml_file  # (only for a list that has one)

        try:
            outlines = read_opml_file(base / spec.opml)
        except OpmlError as e:
            problem(("sources", i, "opml"), str(e))
            continue
        lists.append((spec, list(outlines)))
    return {**data, "sources": kept}, lists, positions


def _with_files(
    settings: Settings,
    base: Path,
    opml_lists: list[tuple[OpmlSourcesSettings, list[Any]]],
    problem: Callable[[tuple[Any, ...], str], None],
) -> Settings:
    """Settings with what other files give, and paths made absolute against the configuration
    file's folder: the sources of OPML lists, the SQLite database, and certificate authority
    files checked (each must load)."""
    if opml_lists:
        settings = settings.model_copy(
            update={"sources": [*settings.sources, *_opml_sources(settings, opml_lists)]}
        )
    url = settings.storage.url
    if url.startswith("sqlite:///") and not url.startswith("sqlite:////"):
        # a relative database path is the configuration file's neighbour, wherever the
        # command runs from (``monitor --config /srv/desk/monitor.yaml status`` from ~)
        rel = url[len("sqlite:///") :]
        if rel != ":memory:":
            where = os.path.abspath(base / Path(rel).expanduser())
            storage = settings.storage.model_copy(update={"url": f"sqlite:///{where}"})
            settings = settings.model_copy(update={"storage": storage})
    if not settings.fetch.ca_certificates:
        return settings
    import ssl

    files = []
    for i, name in enumerate(settings.fetch.ca_certificates):
        file = (base / Path(name).expanduser()).resolve()
        try:
            ssl.create_default_context().load_verify_locations(cafile=str(file))
        except OSError as e:  # ssl.SSLError is one too
            reason = e.strerror or str(e)
            if isinstance(e, ssl.SSLError):
                reason = "no PEM certificate in it"
            problem(("fetch", "ca_certificates", i), f"cannot use {str(file)!r}: {reason}")
        files.append(str(file))
    fetch = settings.fetch.model_copy(update={"ca_certificates": files})
    return settings.model_copy(update={"fetch": fetch})


def _opml_sources(
    settings: Settings, lists: list[tuple[OpmlSourcesSettings, list[Any]]]
) -> list[SourceSettings]:
    from monitor.opml import unique_names

    taken = {s.name for s in settings.sources}
    known_urls = {s.url for s in settings.sources}
    out = []
    for spec, outlines in lists:
        fresh = [o for o in outlines if o.url not in known_urls]
        known_urls.update(o.url for o in fresh)
        for name, o in zip(unique_names(fresh, taken), fresh, strict=True):
            taken.add(name)
            out.append(
                SourceSettings(
                    name=name,
                    url=o.url,
                    interval=spec.interval,
                    kind=spec.kind,
                    full_text=spec.full_text,
                    group=o.group,
                )
            )
    return out


def load(
    path: str | Path, environ: Mapping[str, str] | None = None, delivering: bool = True
) -> LoadedConfig:
    """Read, substitute and validate; raise ConfigError listing every problem.

    ``delivering=False`` (commands that send nothing: ``articles``, ``status``, ``eval`` …): a
    channel whose secrets are not in the environment stands as a console channel of the same
    name, so reading the database never needs ``MONITOR_WEBHOOK_URL`` or a password."""
    path = Path(path)
    env = os.environ if environ is None else environ
    fname = str(path)
    try:
        raw_text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError([ConfigProblem(fname, "", f"cannot read the file: {e}")]) from e
    try:
        data = yaml.load(raw_text, Loader=_LOADER)  # a safe loader either way
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        message = _yaml_problem(e, raw_text)
        raise ConfigError([ConfigProblem(fname, "", message, line)]) from e
    # where each key is written: read only when a problem needs it
    lines = functools.cache(functools.partial(_lines_of, raw_text))
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError([ConfigProblem(fname, "", "expected a mapping of top-level keys", 1)])

    problems: list[ConfigProblem] = []

    def problem(loc: tuple[Any, ...], message: str) -> None:
        problems.append(ConfigProblem(fname, format_path(loc), message, _line_for(lines(), loc)))

    if not delivering:
        data = _without_unset_secrets(data, env)
    data = _substitute(data, env, (), problem)
    context = {"registries": registries()}  # one for the whole file
    data, opml_lists, positions = _split_opml(data, path.parent, problem, context)
    settings: Settings | None = None
    try:
        settings = Settings.model_validate(data, context=context)
    except ValidationError as e:
        unset = {p.path for p in problems}  # a missing ${VAR} explains its key's other errors
        for err in e.errors():
            loc, message = _explain(err, data)
            if len(loc) > 1 and loc[0] == "sources" and isinstance(loc[1], int) and positions:
                loc = ("sources", positions[loc[1]], *loc[2:])  # where it is in the file
            if format_path(loc) not in unset:
                problem(loc, message)
    if settings is not None:
        settings = _with_files(settings, path.parent, opml_lists, problem)
    for loc, message in _cross_check(data):
        problem(loc, message)
    if problems:
        raise ConfigError(sort_problems(problems))
    assert settings is not None
    return LoadedConfig(settings, path, raw_text)


def registries() -> Registries:
    """What the stages offer, for validation to check names against: the configuration is
    composed here, above both its models and the stages' registries (which import nothing of
    it): the kinds of source by name, the storage backends by scheme, the channel kinds (each
    channel's module loaded when a configuration names its type)."""
    from monitor.alert.registry import KINDS as CHANNELS
    from monitor.poll.kinds import KINDS as SOURCE_KINDS
    from monitor.store import BACKENDS

    return Registries(source_kinds=tuple(SOURCE_KINDS), backends=tuple(BACKENDS), channels=CHANNELS)


def _yaml_problem(e: yaml.YAMLError, text: str) -> str:
    """``not valid YAML: a tab indents this line (YAML needs spaces)``, or the parser's own
    words without its ``in "<unicode string>"`` (the file and line are given beside it)."""
    mark = getattr(e, "problem_mark", None)
    if mark is not None:
        lines = text.splitlines()
        here = lines[mark.line] if mark.line < len(lines) else ""
        indent = here[: len(here) - len(here.lstrip())]
        if "\t" in indent or "\t" in here[: mark.column + 1]:
            return "not valid YAML: a tab indents this line (YAML needs spaces)"
    problem = getattr(e, "problem", None) or str(e)
    context = getattr(e, "context", None)
    words = f"{context}, {problem}" if context else problem
    column = f" (column {mark.column + 1})" if mark is not None else ""
    return f"not valid YAML: {words}{column}"


def sort_problems(problems: list[ConfigProblem]) -> list[ConfigProblem]:
    """Unique problems in file order."""
    return sorted(set(problems), key=lambda p: (p.line or 0, p.path, p.message))


def format_path(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif re.fullmatch(r"[A-Za-z_][A-Za-z0-9_\-]*", str(part)):
            out += ("." if out else "") + str(part)
        else:
            out += f"[{str(part)!r}]"
    return out


#: libyaml's loader when present: ten times faster on a large source list
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _lines_of(text: str) -> dict[tuple[Any, ...], int]:
    """The line of each key path in a YAML text that loads."""
    node = yaml.compose(text, Loader=_LOADER)
    return _line_map(node) if node is not None else {}


def _line_map(node: yaml.Node, path: tuple[Any, ...] = ()) -> dict[tuple[Any, ...], int]:
    lines: dict[tuple[Any, ...], int] = {}

    def walk(n: yaml.Node, p: tuple[Any, ...]) -> None:
        lines.setdefault(p, n.start_mark.line + 1)
        if isinstance(n, yaml.MappingNode):
            for k, v in n.value:
                kp = (*p, k.value)
                lines.setdefault(kp, k.start_mark.line + 1)
                walk(v, kp)
        elif isinstance(n, yaml.SequenceNode):
            for i, item in enumerate(n.value):
                walk(item, (*p, i))

    walk(node, path)
    return lines


def _line_for(lines: dict[tuple[Any, ...], int], loc: tuple[Any, ...]) -> int | None:
    for end in range(len(loc), -1, -1):
        if loc[:end] in lines:
            return lines[loc[:end]]
    return None


_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


def _without_unset_secrets(data: dict[str, Any], env: Mapping[str, str]) -> dict[str, Any]:
    """Channels that name an unset ``${VAR}`` (with no default) replaced by console stand-ins;
    a console token so named left out (the console is then read-only)."""
    channels = data.get("channels")

    def unset(value: Any) -> bool:
        if isinstance(value, dict):
            return any(unset(v) for v in value.values())
        if isinstance(value, list):
            return any(unset(v) for v in value)
        return isinstance(value, str) and any(
            m.group(1) not in env and m.group(2) is None for m in _VAR.finditer(value)
        )

    out = dict(data)
    if isinstance(channels, dict):
        out["channels"] = {k: ({"type": "console"} if unset(v) else v) for k, v in channels.items()}
    console = data.get("console")
    if isinstance(console, dict) and unset(console.get("token")):
        out["console"] = {k: v for k, v in console.items() if k != "token"}  # read-only
    return out


def _substitute(value: Any, env: Mapping[str, str], loc: tuple[Any, ...], problem: Any) -> Any:
    if isinstance(value, dict):
        return {k: _substitute(v, env, (*loc, k), problem) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute(v, env, (*loc, i), problem) for i, v in enumerate(value)]
    if not isinstance(value, str) or "${" not in value:
        return value

    def repl(m: re.Match[str]) -> str:
        name, default = m.group(1), m.group(2)
        if name in env:
            return env[name]
        if default is not None:
            return default
        problem(loc, f"environment variable {name} is not set (export {name}=...)")
        return ""

    return _VAR.sub(repl, value)


_FRIENDLY = {
    "missing": "required key is missing",
    "string_type": "expected text",
    "int_type": "expected a whole number",
    "int_parsing": "expected a whole number",
    "float_type": "expected a number",
    "float_parsing": "expected a number",
    "bool_type": "expected true or false",
    "bool_parsing": "expected true or false",
    "list_type": "expected a list",
    "dict_type": "expected a mapping",
    "model_type": "expected a mapping",
}


def _explain(err: Mapping[str, Any], data: Any) -> tuple[tuple[Any, ...], str]:
    loc = _data_loc(tuple(err["loc"]), data)
    kind = err["type"]
    got = _lookup(data, loc)
    if kind == "extra_forbidden":
        model = _model_at(loc[:-1], data)
        known = sorted(f.alias or n for n, f in model.model_fields.items()) if model else []
        hint = difflib.get_close_matches(str(loc[-1]), known, n=1)
        msg = f"unknown key {loc[-1]!r}"
        if hint:
            msg += f" (did you mean {hint[0]!r}?)"
        elif known:
            msg += f"; expected one of: {', '.join(known)}"
        return loc, msg
    if kind == "literal_error":
        return loc, f"expected one of {err['ctx']['expected']}, got {got!r}"
    if kind == "value_error":
        return loc, str(err["ctx"]["error"])
    message = _FRIENDLY.get(kind, err["msg"])
    if got is not _MISSING and kind != "missing":
        message += f", got {got!r}"
    return loc, message


_UNION_TAGS = frozenset({"list[str]", "tuple[str, str]"})


def _data_loc(loc: tuple[Any, ...], data: Any) -> tuple[Any, ...]:
    """Pydantic's error location without the union tags it inserts, walking the data so that
    a user's key that happens to equal a tag (a channel named "slack") is kept."""
    out: list[Any] = []
    node = data
    for part in loc:
        key = "not" if part == "not_" else part
        if isinstance(node, dict) and key in node:
            out.append(part)
            node = node[key]
        elif isinstance(node, list) and isinstance(part, int) and part < len(node):
            out.append(part)
            node = node[part]
        elif part in _UNION_TAGS or (isinstance(part, str) and part.startswith("function-")):
            continue
        else:
            out.append(part)
            node = None
    return tuple(out)


_MISSING = object()


def _lookup(data: Any, loc: tuple[Any, ...]) -> Any:
    for part in loc:
        if part == "not_":
            part = "not"
        if (isinstance(data, dict) and part in data) or (
            isinstance(data, list) and isinstance(part, int) and part < len(data)
        ):
            data = data[part]
        else:
            return _MISSING
    return data


def _model_at(loc: tuple[Any, ...], data: Any) -> type[BaseModel] | None:
    """The settings model that validates the mapping at ``loc``."""
    top: dict[str, type[BaseModel]] = {
        "storage": StorageSettings,
        "fetch": FetchSettings,
        "delivery": DeliverySettings,
        "nlp": NlpSettings,
    }
    if not loc:
        return Settings
    head = loc[0]
    if head in top and len(loc) == 1:
        return top[head]
    if head == "sources" and len(loc) == 2:
        return SourceSettings
    if head == "rules" and len(loc) == 2:
        return RuleSettings
    if head == "actors" and len(loc) == 2:
        return ActorSettings
    if head == "keywords" and len(loc) == 2:
        return KeywordSetSettings
    if head == "conflict" and len(loc) == 2:
        return ConflictClassSettings
    if head == "channels" and len(loc) == 2:
        from monitor.alert.registry import KINDS

        kind = KINDS.get(_lookup(data, (*loc, "type")))
        return kind.settings if kind is not None else ChannelSettingsBase
    return None


def _cross_check(data: dict[str, Any]) -> Iterator[tuple[tuple[Any, ...], str]]:
    """Checks across sections, on the raw data so they run even when validation failed."""
    channels = data.get("channels") if isinstance(data.get("channels"), dict) else {}
    keywords = data.get("keywords") if isinstance(data.get("keywords"), dict) else {}
    actors = data.get("actors") if isinstance(data.get("actors"), dict) else {}
    conflict = data.get("conflict") if isinstance(data.get("conflict"), dict) else {}
    assert isinstance(channels, dict) and isinstance(keywords, dict) and isinstance(actors, dict)
    assert isinstance(conflict, dict)

    yield from _duplicate_sources(data.get("sources"))
    health = data.get("health")
    if isinstance(health, dict) and isinstance(health.get("channels"), list):
        for j, name in enumerate(health["channels"]):
            if isinstance(name, str) and name not in channels:
                yield (("health", "channels", j), _unknown("channel", name, channels))
    for name in conflict:
        if name in keywords:
            yield (("conflict", name), f"{name!r} is both a conflict class and a keyword set")
    yield from _confirm_refs("keywords", keywords, {**keywords, **conflict})
    yield from _confirm_refs("conflict", conflict, {**keywords, **conflict})
    keywords = {**keywords, **conflict}  # rules name either

    rules = data.get("rules")
    if not isinstance(rules, list):
        return
    names: set[str] = set()
    for i, rule in enumerate(rules):
        if not isinstance(rule, dict):
            continue
        if isinstance(rule.get("name"), str):
            if rule["name"] in names:
                yield (("rules", i, "name"), f"duplicate rule name {rule['name']!r}")
            names.add(rule["name"])
        yield from _refs(rule, i, "channels", channels, "channel")
        for key in ("any", "all", "not", "unless", "confirm"):
            yield from _refs(rule, i, key, keywords, "keyword set")
        tracked = {
            k: v for k, v in actors.items() if not (isinstance(v, dict) and v.get("track") is False)
        }
        yield from _refs(rule, i, "actors", tracked, "tracked actor")
        yield from _pair_refs(rule, i, actors)


def _confirm_refs(
    section: str, sets: dict[str, Any], known: dict[str, Any]
) -> Iterator[tuple[tuple[Any, ...], str]]:
    """Every set named by a ``confirm`` list exists (a keyword set or a conflict class)."""
    for name, kw in sets.items():
        confirm = kw.get("confirm") if isinstance(kw, dict) else None
        if isinstance(confirm, list):
            for j, ref in enumerate(confirm):
                if isinstance(ref, str) and ref not in known:
                    yield ((section, name, "confirm", j), _unknown("keyword set", ref, known))


def _pair_refs(
    rule: dict[str, Any], i: int, actors: dict[str, Any]
) -> Iterator[tuple[tuple[Any, ...], str]]:
    pairs = rule.get("pairs")
    if not isinstance(pairs, list):
        return
    for j, pair in enumerate(pairs):
        if isinstance(pair, list):
            for k, name in enumerate(pair):
                if isinstance(name, str) and name not in actors:
                    yield (("rules", i, "pairs", j, k), _unknown("actor", name, actors))


def _duplicate_sources(sources: Any) -> Iterator[tuple[tuple[Any, ...], str]]:
    if not isinstance(sources, list):
        return
    seen: set[str] = set()
    for i, src in enumerate(sources):
        name = src.get("name") if isinstance(src, dict) else None
        if isinstance(name, str):
            if name in seen:
                yield (("sources", i, "name"), f"duplicate source name {name!r}")
            seen.add(name)


def _refs(
    rule: dict[str, Any], i: int, key: str, known: dict[str, Any], what: str
) -> Iterator[tuple[tuple[Any, ...], str]]:
    refs = rule.get(key)
    if not isinstance(refs, list):
        return
    for j, name in enumerate(refs):
        if isinstance(name, str) and name not in known:
            yield (("rules", i, key, j), _unknown(what, name, known))


def _unknown(what: str, name: str, known: Mapping[str, Any]) -> str:
    msg = f"unknown {what} {name!r}"
    hint = difflib.get_close_matches(name, list(known), n=1)
    if hint:
        return msg + f" (did you mean {hint[0]!r}?)"
    if known:
        return msg + f"; defined: {', '.join(sorted(known))}"
    return msg + "; none is defined"
