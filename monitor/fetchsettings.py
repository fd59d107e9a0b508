"""The fetcher's settings: the ``fetch:`` section. The fetcher's own model, apart from it, so
that the configuration loads it without loading the fetcher (aiohttp, httpx), and the fetcher
needs nothing of the configuration but this."""

from __future__ import annotations

from pydantic import Field, field_validator

from monitor.configbase import Duration, Strict


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
