"""OPML, the feed-list format every reader exports: read it into sources, write sources out.

Pure apart from reading a file. The XML is read without DTDs, entities or network access.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import quoteattr

from lxml import etree


class OpmlError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Outline:
    title: str
    url: str


def read_opml(data: bytes) -> list[Outline]:
    """Every outline with an xmlUrl, nested folders included, in document order, each URL once."""
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False
    )
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as e:
        raise OpmlError(f"not valid OPML: {e}") from e
    if root is None or etree.QName(root).localname.lower() != "opml":
        raise OpmlError("not OPML: the document's root is not <opml>")
    out: dict[str, Outline] = {}
    for el in root.iter("outline"):
        attrs = {k.lower(): v for k, v in el.attrib.items()}
        url = (attrs.get("xmlurl") or "").strip()
        if not re.match(r"^https?://", url):
            continue
        title = " ".join((attrs.get("title") or attrs.get("text") or "").split())
        out.setdefault(url, Outline(title, url))
    return list(out.values())


def read_opml_file(path: Path) -> list[Outline]:
    try:
        data = path.read_bytes()
    except OSError as e:
        raise OpmlError(f"cannot read {path}: {e.strerror or e}") from e
    return read_opml(data)


def unique_names(outlines: Sequence[Outline], taken: Iterable[str]) -> list[str]:
    """A source name for each outline: its title made into a slug, unique among ``taken``."""
    used = set(taken)
    names = []
    for o in outlines:
        base = re.sub(r"[^a-z0-9]+", "-", o.title.lower()).strip("-")[:60]
        if not base:
            base = re.sub(r"[^a-z0-9]+", "-", o.url.split("://", 1)[-1].lower()).strip("-")[:60]
        name, n = base, 2
        while name in used:
            name, n = f"{base}-{n}", n + 1
        used.add(name)
        names.append(name)
    return names


def write_opml(sources: Sequence[tuple[str, str]], title: str = "monitor sources") -> str:
    """An OPML 2.0 document listing (name, url) pairs."""
    body = "".join(
        f'    <outline type="rss" text={quoteattr(name)} title={quoteattr(name)} '
        f"xmlUrl={quoteattr(url)}/>\n"
        for name, url in sources
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<opml version="2.0">\n'
        f"  <head><title>{title}</title></head>\n  <body>\n{body}  </body>\n</opml>\n"
    )
