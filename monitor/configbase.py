"""What every settings model is built from: strict models, durations, secret URLs.

Kept apart from ``config`` so that the modules that declare their own settings beside their
code (each alert channel) import these without importing the whole configuration.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, SecretStr

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)?\s*$")
_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, None: 1}


def parse_duration(value: Any, zero: bool = False) -> float:
    """``90``, ``"90s"``, ``"15m"``, ``"1h"``, ``"2d"`` → seconds (``zero``: 0 allowed)."""
    if isinstance(value, bool):
        raise ValueError("expected a duration such as 90, '90s', '15m' or '1h'")
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str) and (m := _DURATION.match(value)):
        seconds = float(m.group(1)) * _UNITS[m.group(2)]
    else:
        raise ValueError(f"expected a duration such as 90, '90s', '15m' or '1h', got {value!r}")
    if seconds < 0 or (seconds == 0 and not zero):
        raise ValueError("a duration must be positive")
    return seconds


def _zero_or_more(value: Any) -> float:
    return parse_duration(value, zero=True)


Duration = Annotated[float, BeforeValidator(parse_duration)]
#: a duration that may be 0 (a wait that may be none, a limit that may be off)
DurationOrZero = Annotated[float, BeforeValidator(_zero_or_more)]


class Strict(BaseModel):
    """Unknown keys are errors (a typo names itself), values are frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class ChannelSettingsBase(Strict):
    """What every channel's settings hold; each channel type declares its own model (with
    ``type: Literal["<its name>"]``) beside its code. Secrets are ``SecretStr`` fields: never
    shown in logs, reprs or configuration errors."""

    type: str


def http_url(v: SecretStr | None) -> SecretStr | None:
    """A secret that must be an http(s) URL (a webhook's); validated without showing it."""
    if v is not None and not re.match(r"^https?://[^/\s]+", v.get_secret_value()):
        raise ValueError("expected an http:// or https:// URL")
    return v
