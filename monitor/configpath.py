"""Where the configuration file is: ``--config``, else ``$MONITOR_CONFIG``, else the default.

Alone so that ``monitor help`` and ``monitor version`` can say so without loading the
configuration's models (pydantic, YAML).
"""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_PATH = "config/monitor.yaml"
ENV_VAR = "MONITOR_CONFIG"


def resolve_path(cli_path: str | None) -> Path:
    """The configuration file a command reads."""
    return Path(cli_path or os.environ.get(ENV_VAR) or DEFAULT_PATH)
