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
    #: the folder it was filed under (a reader's category), if any
    group: str | None = None


@dataclass(frozen=True, slots=True)
class OpmlList:
    """A feed list as read: its feeds, and each entry left out, in words."""

    outlines: list[Outline]
    #: "line 12: 'Desk' has xmlUrl 'notaurl', not an http(s) URL: left out"
    left_out: list[str]


def read_opml(data: bytes) -> list[Outline]:
    """Every outline with an xmlUrl, nested folders included, in document order, each URL once."""
    return read_opml_list(data).outlines


def read_opml_list(data: bytes) -> OpmlList:
    """Every outline with an xmlUrl, nested folders included (the nearest folder kept as its
    group), in document order, each URL once; what was left out and why, a line each."""
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
    left_out: list[str] = []
    for el in root.iter("outline"):
        attrs = {k.lower(): v for k, v in el.attrib.items()}
        if "xmlurl" not in attrs:
            continue  # a folder
        url = attrs["xmlurl"].strip()
        title = _text(attrs)
        where = f"line {el.sourceline}: {title or url!r}"
        if not re.match(r"^https?://[^/\s]+", url):
            left_out.append(f"{where} has xmlUrl {url!r}, not an http(s) URL: left out")
            continue
        if url in out:
            left_out.append(f"{where}: {url} is listed twice: kept once")
            continue
        out[url] = Outline(title, url, _folder(el))
    return OpmlList(list(out.values()), left_out)


def _text(attrs: dict[str, str]) -> str:
    return " ".join((attrs.get("title") or attrs.get("text") or "").split())


def _folder(el: etree._Element) -> str | None:
    """The nearest enclosing outline that is a folder (no xmlUrl of its own): its name."""
    parent = el.getparent()
    while parent is not None and etree.QName(parent).localname.lower() == "outline":
        attrs = {k.lower(): v for k, v in parent.attrib.items()}
        if "xmlurl" not in attrs and _text(attrs):
            return _text(attrs)
        parent = parent.getparent()
    return None


def read_opml_file(path: Path) -> list[Outline]:
    return read_opml_list_file(path).outlines


def read_opml_list_file(path: Path) -> OpmlList:
    try:
        data = path.read_bytes()
    except OSError as e:
        raise OpmlError(f"cannot read {path}: {e.strerror or e}") from e
    return read_opml_list(data)


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


def write_opml(
    sources: Sequence[tuple[str, str] | tuple[str, str, str | None]],
    title: str = "monitor sources",
) -> str:
    """An OPML 2.0 document listing (name, url) pairs, or (name, url, group) triples: a
    source with a group goes in that folder, as readers file them."""
    folders: dict[str | None, list[str]] = {}
    for source in sources:
        name, url = source[0], source[1]
        group = source[2] if len(source) > 2 else None
        folders.setdefault(group, []).append(
            f'<outline type="rss" text={quoteattr(name)} title={quoteattr(name)} '
            f"xmlUrl={quoteattr(url)}/>"
        )
    body = "".join(f"    {line}\n" for line in folders.pop(None, []))
    for group, lines in folders.items():
        body += f"    <outline text={quoteattr(group or '')}>\n"
        body += "".join(f"      {line}\n" for line in lines)
        body += "    </outline>\n"
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<opml version="2.0">\n'
        f"  <head><title>{title}</title></head>\n  <body>\n{body}  </body>\n</opml>\n"
    )
