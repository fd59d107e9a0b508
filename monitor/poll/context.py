"""What every stage of a poll shares: the store, the fetcher, the processor and the policies."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from monitor.alert.outlets import Outlets
from monitor.fetch import Fetcher
from monitor.poll.source_health import HealthPolicy
from monitor.poll.workers import Processor
from monitor.store import Planner, Store


@dataclass
class PipelineContext:
    store: Store
    fetcher: Fetcher
    #: parses and matches (in worker processes when there are many sources)
    processor: Processor
    #: what stored articles' matches become: stories, alert rows (``alert.planner``)
    planner: Planner
    now: Callable[[], datetime]
    rand: Callable[[], float] = field(default=random.random)
    #: operational notices about failing and silent sources
    health: HealthPolicy = field(default_factory=lambda: HealthPolicy(()))
    #: which sources are one outlet (the same feed reached two ways)
    outlets: Outlets = field(default_factory=Outlets)
