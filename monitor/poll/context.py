"""What every stage of a poll shares: the store, the fetcher, the processor and the policies."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from monitor.fetch import Fetcher
from monitor.models import Match
from monitor.poll.source_health import HealthPolicy
from monitor.poll.workers import Processor
from monitor.store import Store, StoryDecider


@dataclass
class PipelineContext:
    store: Store
    fetcher: Fetcher
    #: parses and matches (in worker processes when there are many sources)
    processor: Processor
    #: channel names an alert for this match goes to
    channels_for: Callable[[Match], Sequence[str]]
    now: Callable[[], datetime]
    rand: Callable[[], float] = field(default=random.random)
    #: one alert per story; None alerts every matching article
    stories: StoryDecider | None = None
    #: when a new alert is first due (digest rules wait for their period); None: now
    deliver_at: Callable[[Match, datetime], datetime] | None = None
    #: operational notices about failing and silent sources
    health: HealthPolicy = field(default_factory=lambda: HealthPolicy(()))
