"""One exception hierarchy for the whole package.

    MonitorError
     ├── ConfigError      the configuration cannot be used (file, key path, line, what is wrong)
     ├── FetchError       a source could not be fetched (expected, per source; a short reason)
     ├── ParseError       a fetched document could not be read as a feed or page
     ├── StorageError     the database cannot be opened, migrated or written
     │    └── StorageUnavailable   not now: a server away, a full disk (StorageFull) …
     └── DeliveryError    a channel could not deliver an alert

"Not modified" is not an error: it is a normal fetch result (see models.FetchResult).
Expected failures are values or these exceptions, converted at the edge with ``raise ... from``;
anything else is a bug and is allowed to be loud. Network failures are named in one vocabulary
(``classify``: dns, connection refused, timeout, tls …) for sources and channels alike.
"""

from __future__ import annotations

import os
import shutil
import socket
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit


class MonitorError(Exception):
    """Base of every error this package raises on purpose."""


@dataclass(frozen=True, slots=True)
class ConfigProblem:
    """One thing wrong with a configuration file."""

    #: the configuration file
    file: str
    #: dotted key path, e.g. ``rules[0].channels[1]`` ("" for the whole file)
    path: str
    #: what is wrong and what is expected
    message: str
    #: 1-based line in the file, where known
    line: int | None = None

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"


class ConfigError(MonitorError):
    """The configuration is unusable; ``problems`` lists every problem found at once."""

    def __init__(self, problems: list[ConfigProblem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class FetchError(MonitorError):
    """A source could not be fetched; ``reason`` is short and stable (``timeout``, ``http 503``)."""

    def __init__(self, reason: str, detail: str = "", retry_after: float | None = None) -> None:
        self.reason = reason
        self.detail = detail
        #: seconds the server asked us to wait (429/503 Retry-After), if any
        self.retry_after = retry_after
        super().__init__(f"{reason}: {detail}" if detail else reason)


class ParseError(MonitorError):
    """A document could not be parsed."""


class StorageError(MonitorError):
    """The database could not be opened, migrated or written."""


class StorageUnavailable(StorageError):
    """The database cannot be used now (a server down, restarting or failing over; a full
    disk; a file made read-only or removed): waiting and trying again may work, unlike a
    refused password or a schema from the future. ``headline``: what an operator reads in
    the one line that says polls are paused ("database unreachable", "database disk full
    (/var/lib/monitor/monitor.db, 12 KB free)")."""

    def __init__(self, message: str, headline: str = "database unreachable") -> None:
        super().__init__(message)
        self.headline = headline


class StorageFull(StorageUnavailable):
    """The disk under the database is full (SQLite's "database or disk is full",
    PostgreSQL's "could not extend file"): nothing can be written until space comes back."""

    @classmethod
    def at(cls, path: str, cause: BaseException | None = None) -> StorageFull:
        """The disk under the file ``path`` is full: "database disk full (/var/lib/monitor/
        monitor.db, 12 KB free)"."""
        room = free_bytes(path)
        left = f", {_size(room)} free" if room is not None else ""
        headline = f"database disk full ({path}{left})"
        return cls(f"{headline}: {cause}" if cause is not None else headline, headline=headline)


def free_bytes(path: str) -> int | None:
    """Room left on the file system of the file ``path`` (None: not to be known)."""
    try:
        return shutil.disk_usage(os.path.dirname(os.path.abspath(path))).free
    except OSError:
        return None


def _size(n: float) -> str:
    if n < 1024:
        return f"{n:.0f} bytes"
    for unit in ("KB", "MB", "GB"):
        n /= 1024
        if n < 1024 or unit == "GB":
            break
    return f"{n:.0f} {unit}"


class StartRefused(MonitorError):
    """The daemon cannot start as configured (its endpoint's port is another process's;
    another process holds the database: ``daemon.instance.AlreadyRunning``)."""


class DeliveryError(MonitorError):
    """A channel could not deliver an alert."""


# ---------------------------------------------------------------------------------------------
# network failures, in words (fetching and delivering share them)


def causes(e: BaseException) -> list[BaseException]:
    """``e`` and everything behind it: causes, contexts, and the OS errors aiohttp wraps."""
    chain: list[BaseException] = []
    todo: list[BaseException | None] = [e]
    while todo:
        cur = todo.pop()
        if cur is None or any(cur is x for x in chain):
            continue
        chain.append(cur)
        todo += [cur.__cause__, cur.__context__, getattr(cur, "os_error", None)]
    return chain


#: how resolvers say a name was not found (glibc, musl, macOS, aiohttp)
_DNS_WORDS = (
    "name or service not known",
    "nodename nor servname",
    "domain name not found",
    "temporary failure in name resolution",
    "no address associated",
    "getaddrinfo failed",
)


def classify(e: BaseException) -> str:
    """A short, stable reason for a network failure, from its whole cause chain (the
    transport's own mapping of errors is not to be trusted: httpx-aiohttp reports a refused
    connection as a ConnectTimeout)."""
    chain = causes(e)
    names = {type(x).__name__ for x in chain}
    text = " ".join(str(x).lower() for x in chain)
    if "ClientConnectorDNSError" in names or any(p in text for p in _DNS_WORDS):
        return "dns"  # before timeouts: a failed lookup may be raised as a ConnectTimeout
    for exc in chain:
        if isinstance(exc, ConnectionRefusedError):
            return "connection refused"
        if isinstance(exc, ConnectionResetError | BrokenPipeError):
            return "connection reset"
        if isinstance(exc, ssl.SSLError | ssl.CertificateError):
            return "tls"
        if isinstance(exc, socket.gaierror):
            return "dns"
    if names & {
        "ServerDisconnectedError",
        "RemoteProtocolError",
        "ClientPayloadError",
        "TransferEncodingError",
        "ContentLengthError",
        "ReadError",
    }:
        return "protocol error"
    if names & {
        "ClientResponseError",
        "BadStatusLine",
        "BadHttpMessage",
        "LineTooLong",
        "LocalProtocolError",
        "InvalidURLError",
    }:
        return "protocol error"
    if any(isinstance(x, TimeoutError | socket.timeout) for x in chain) or names & {
        "ServerTimeoutError",
        "SocketTimeoutError",
        "ReadTimeout",
        "ConnectTimeout",
        "PoolTimeout",
        "WriteTimeout",
    }:
        return "timeout"
    if "ssl" in text or "certificate" in text:
        return "tls"
    return "network error"


def where_of(url: str) -> str:
    """``host:port`` of a URL, the port implied by the scheme when not written."""
    parts = urlsplit(url)
    port = parts.port or {"https": 443, "http": 80, "smtps": 465, "smtp": 587}.get(parts.scheme)
    return f"{parts.hostname or ''}:{port}"


def network_failure(e: BaseException, url: str) -> str:
    """``connection refused (127.0.0.1:9)``, ``dns: name not found (hooks.example)``,
    ``timeout (hooks.example:443)``: what a delivery's network failure was, and where."""
    reason = classify(e)
    if reason == "dns":
        return f"dns: name not found ({urlsplit(url).hostname or ''})"
    return f"{reason} ({where_of(url)})"
