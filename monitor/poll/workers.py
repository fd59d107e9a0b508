"""CPU work off the event loop: parsing feeds and matching articles.

With few sources, parsing runs in a thread and matching inline. With many, a small pool of
worker processes (each holding the compiled rules) parses and matches on every core while
the main process keeps fetching and storing, so the event loop is not starved by the GIL
(benchmarks/feed_farm.py measures both the pass and the event loop's longest stall).

Workers are forked when the process has a single thread (at start-up, on Linux): they begin
with every module loaded, in a few milliseconds. Otherwise (a reload in a running daemon,
other systems) they are spawned: a fresh interpreter that imports the parsing and matching
code (~0.3 s each). Either way they get the rule set (``match.ruleset``): its engine comes
with it when it was compiled just now, else each worker loads the kept compilation the first
time it is given text (a pass where nothing changed never loads it).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import multiprocessing
import os
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from monitor.batching import Coalescer
from monitor.errors import ParseError
from monitor.logs import event
from monitor.models import Article, Match
from monitor.parse.feeds import parse_feed

if TYPE_CHECKING:
    from monitor.match.engine import Engine
    from monitor.match.ruleset import RuleSet

#: use worker processes from this many sources on (below it, their start-up is not worth it)
POOL_FROM_SOURCES = 100
#: documents sent to a worker in one task at most, when many wait (each task costs a round
#: trip through the pool: ~0.3 ms of the main process's time)
DOCUMENTS_PER_TASK = 32
#: seconds between two looks of a worker at its parent (gone: the worker exits)
PARENT_CHECK = 1.0

log = logging.getLogger("monitor.workers")
_rules: RuleSet | None = None  # in a worker process
T = TypeVar("T")


def _init_worker(rules: RuleSet, parent: int) -> None:
    """The rules arrive (inherited, or pickled): a worker loads their engine the first time it
    is given text (``match.ruleset``), and never loads the configuration code. Signals are the
    parent's business: Ctrl-C reaches the whole process group, and the parent stops its
    workers itself (a forked worker must not answer the parent's handlers either). A parent
    that dies without stopping them (SIGKILL, the OOM killer) takes them with it."""
    global _rules
    _rules = rules
    signal.set_wakeup_fd(-1)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGHUP, signal.SIG_DFL)
    threading.Thread(target=_exit_with, args=(parent,), name="parent", daemon=True).start()


def _exit_with(parent: int) -> None:
    """Exit once ``parent`` is gone (this process was handed to another): looked at every
    second. Without it a worker of a killed daemon would wait for work for ever."""
    while os.getppid() == parent:
        time.sleep(PARENT_CHECK)
    os._exit(0)


def _can_fork() -> bool:
    """Forking is safe while this process has no other thread (none can hold a lock the
    child would inherit locked); on Linux only (macOS's system libraries object to it)."""
    return sys.platform == "linux" and threading.active_count() == 1


def _ready() -> bool:
    return _rules is not None


def _engine() -> Engine:
    assert _rules is not None
    return _rules.engine()


def _parse(
    body: bytes, url: str, source: str, fetched: datetime, headers: Mapping[str, str]
) -> list[Article]:
    return parse_feed(body, url=url, source=source, fetched=fetched, headers=headers)


def _match(texts: Sequence[tuple[str, str, datetime]]) -> list[list[Match]]:
    return _engine().match_many(texts)


def _parse_and_match(
    body: bytes, url: str, source: str, fetched: datetime, headers: Mapping[str, str]
) -> list[tuple[Article, list[Match]]]:
    articles = parse_feed(body, url=url, source=source, fetched=fetched, headers=headers)
    matches = _engine().match_many([(a.title, a.text, a.dated) for a in articles])
    return list(zip(articles, matches, strict=True))


_Document = tuple[bytes, str, str, datetime, dict[str, str]]
_Outcome = tuple[list[tuple[Article, list[Match]]] | None, Exception | None]


def _parse_and_match_each(documents: list[_Document]) -> list[_Outcome]:
    """Several documents in one task; each one's entries, or what went wrong with it (one
    broken feed fails alone). The entries of every document are matched together, so that
    the sentences they need parsed go to the parser in one batch."""
    parsed: list[list[Article] | Exception] = []
    for document in documents:
        try:
            body, url, source, fetched, headers = document
            parsed.append(
                parse_feed(body, url=url, source=source, fetched=fetched, headers=headers)
            )
        except Exception as e:  # raised again in the main process, for that document
            parsed.append(_kept(e))
    articles = [a for p in parsed if isinstance(p, list) for a in p]
    try:
        found = iter(_engine().match_many([(a.title, a.text, a.dated) for a in articles]))
    except Exception:  # a bug in matching: find the document it belongs to
        return [_match_alone(p) for p in parsed]
    return [
        (None, p) if isinstance(p, Exception) else ([(a, next(found)) for a in p], None)
        for p in parsed
    ]


def _kept(e: Exception) -> Exception:
    if not isinstance(e, ParseError):  # a bug: keep where it happened
        e.add_note("in a worker process:\n" + traceback.format_exc())
    return e


def _match_alone(parsed: list[Article] | Exception) -> _Outcome:
    if isinstance(parsed, Exception):
        return None, parsed
    try:
        found = _engine().match_many([(a.title, a.text, a.dated) for a in parsed])
    except Exception as e:
        return None, _kept(e)
    return list(zip(parsed, found, strict=True)), None


class Processor:
    """Parse and match, in this process or in a pool; one per runtime.

    The pool starts with the first document to parse (a pass where nothing changed never
    starts it), and requests queue up while the workers are still importing and compiling.
    """

    def __init__(self, rules: RuleSet, sources: int) -> None:
        """Call from the event loop; at start-up, before anything starts a thread, to fork."""
        self._rules = rules
        self._pool: ProcessPoolExecutor | None = None
        self._started: asyncio.Future[None] | None = None
        workers = min(os.cpu_count() or 1, 4)
        self._workers = workers
        self._documents: Coalescer[_Document, _Outcome] = Coalescer(
            self._send_documents, concurrency=workers, max_batch=DOCUMENTS_PER_TASK
        )
        if sources >= POOL_FROM_SOURCES and workers > 1:
            fork = _can_fork()
            self._pool = ProcessPoolExecutor(
                max_workers=workers,
                mp_context=multiprocessing.get_context("fork" if fork else "spawn"),
                initializer=_init_worker,
                initargs=(rules, os.getpid()),
            )
            if fork:
                # now, while there is one thread: the first task forks every worker at once
                # (a pool that forks never starts processes later) and then the pool's own
                # management thread
                self._pool.submit(_ready)
                self._started = asyncio.get_running_loop().create_future()
                self._started.set_result(None)
            event(
                log,
                logging.INFO,
                "worker processes",
                count=workers,
                start="fork" if fork else "spawn",
            )

    async def _ready_pool(self) -> ProcessPoolExecutor | None:
        """The pool, its processes started: from a thread, because starting one blocks for
        ~0.1 s, which must not happen inside a step of the event loop."""
        pool = self._pool
        if pool is None:
            return None
        if self._started is None:

            def spawn() -> None:
                for _ in range(self._workers):
                    pool.submit(_ready)  # starts a process; its result is not awaited

            self._started = asyncio.ensure_future(asyncio.to_thread(spawn))
        await asyncio.shield(self._started)
        return pool

    async def parse(
        self, body: bytes, *, url: str, source: str, fetched: datetime, headers: Mapping[str, str]
    ) -> list[Article]:
        return await self.run(_parse, body, url, source, fetched, dict(headers))

    async def parse_and_match(
        self, body: bytes, *, url: str, source: str, fetched: datetime, headers: Mapping[str, str]
    ) -> list[tuple[Article, list[Match]]]:
        """Parse and match every entry in one step: for a source whose entries are all new
        (its first poll), this saves sending every article back and forth again."""
        pool = await self._ready_pool()
        if pool is None:
            articles = await self.parse(
                body, url=url, source=source, fetched=fetched, headers=headers
            )
            return list(zip(articles, await self.match(articles), strict=True))
        entries, error = await self._documents.submit((body, url, source, fetched, dict(headers)))
        if error is not None:
            raise error
        assert entries is not None
        return entries

    async def _send_documents(self, documents: list[_Document]) -> list[_Outcome]:
        pool = await self._ready_pool()
        assert pool is not None
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(pool, _parse_and_match_each, documents)

    async def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """``fn(*args, **kwargs)`` off the event loop: in a worker process when there is a
        pool (``fn`` must be a module-level function of picklable arguments), else a thread."""
        pool = await self._ready_pool()
        call = functools.partial(fn, *args, **kwargs)
        if pool is None:
            return await asyncio.to_thread(call)
        return await asyncio.get_running_loop().run_in_executor(pool, call)

    async def match(self, articles: Sequence[Article]) -> list[list[Match]]:
        if not articles:
            return []
        texts = [(a.title, a.text, a.dated) for a in articles]
        pool = await self._ready_pool()
        if pool is None:
            # in a thread: a sentence may need the parser (its model loads on first use)
            return await asyncio.to_thread(lambda: self._rules.engine().match_many(texts))
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(pool, _match, texts)

    def close(self, cancel: bool = True) -> None:
        """Stop the worker processes; ``cancel=False`` lets queued work finish first (a
        processor replaced by a reload, while polls that use it are still running)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=cancel)
