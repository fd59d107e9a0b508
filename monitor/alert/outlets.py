"""Which sources are one outlet. Pure.

A site's home page (which announces its feed) and the same feed configured directly are two
sources but one outlet: a story they both carry is not "also reported by" the outlet itself.
Sources whose documents resolve to the same URL are one outlet, named after the first of them
in the configuration.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from monitor.parse.urls import canonical_url


class Outlets:
    def __init__(self, order: Sequence[str] = ()) -> None:
        #: the configuration's order of sources: the first of an outlet names it
        self._rank = {name: i for i, name in enumerate(order)}
        self._url: dict[str, str] = {}
        self._sources: dict[str, set[str]] = {}
        #: noted, not yet made canonical (a pass over a thousand unchanged sources notes them
        #: all and asks for none: ~20 ms of URL parsing saved until an alert needs an outlet)
        self._pending: dict[str, str] = {}

    def order(self, names: Sequence[str]) -> None:
        """The configuration's order of sources (again, after a reload)."""
        self._rank = {name: i for i, name in enumerate(names)}

    def note(self, source: str, url: str) -> None:
        """``source`` reads the document at ``url`` (after redirects and announced feeds)."""
        self._pending[source] = url

    def _settle(self) -> None:
        pending, self._pending = self._pending, {}
        for source, url in pending.items():
            self._place(source, url)

    def _place(self, source: str, url: str) -> None:
        try:
            key = canonical_url(url)
        except ValueError:
            key = url
        old = self._url.get(source)
        if old == key:
            return
        if old is not None:
            self._sources[old].discard(source)
        self._url[source] = key
        self._sources.setdefault(key, set()).add(source)

    def outlet(self, source: str) -> str:
        """The outlet a source belongs to (its own name when it shares its URL with none)."""
        if self._pending:
            self._settle()
        key = self._url.get(source)
        if key is None:
            return source
        return min(self._sources[key], key=lambda s: (self._rank.get(s, len(self._rank)), s))

    def shared(self) -> Iterable[tuple[str, list[str]]]:
        """(url, sources) for every URL that more than one source resolves to."""
        self._settle()
        for key, sources in self._sources.items():
            if len(sources) > 1:
                yield key, sorted(sources, key=lambda s: (self._rank.get(s, len(self._rank)), s))
