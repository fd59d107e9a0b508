"""The role stage over a document: which sentences are parsed, in batches, and read.

A sentence with two tracked actors near a conflict word is parsed once per article (never
more than ``MAX_PARSED_SENTENCES`` of one article: a hostile or endless text is read by word
order), in batches across the articles matched together (a sentence alone costs the parser
about three times as much), a headline in Title Case first put in sentence case, double
quotation marks read as spaces. Its parse and its actor mentions go to ``roles.read``; the
reading is kept in the ``Document``. Text in Arabic script or in French, or no parser (none
configured, its model not installed), reads as nothing: word order decides there. The parser is
the only I/O-like part (``syntax.Parser`` loads a model once per process).
"""

from __future__ import annotations

import re
from dataclasses import replace

from monitor.match import lexicon as lx
from monitor.match import readings, roles
from monitor.match import text as textmod
from monitor.match.document import ActorHit, Document
from monitor.match.syntax import Parser, ParserUnavailable


class Reader:
    """Parses the sentences matching asks for and keeps their readings."""

    def __init__(self, parser: Parser | None, lexicon: lx.Lexicon) -> None:
        #: None: word order alone (none configured, or its model could not be loaded)
        self.parser = parser
        self.lexicon = lexicon

    def reading(self, doc: Document, lo: int, hi: int) -> readings.SentenceReading | None:
        """The role stage's reading of the sentence [lo, hi), parsed once per article; None
        when it cannot be read (no parser, text in Arabic script, the model unavailable).
        While a batch gathers what to parse (``doc.pending``), a sentence not read yet is
        noted and reads as nothing for now."""
        if (lo, hi) in doc.readings:
            return doc.readings[(lo, hi)]
        if not self._parsable(doc, lo, hi):
            doc.readings[(lo, hi)] = None
            return None
        if doc.pending is not None:
            doc.pending.append((lo, hi))
            return readings.PENDING
        self.parse_into([doc], [(lo, hi)])
        return doc.readings[(lo, hi)]

    def _parsable(self, doc: Document, lo: int, hi: int) -> bool:
        return (
            self.parser is not None
            and doc.parsed < MAX_PARSED_SENTENCES  # a hostile or endless text: word order
            and not textmod.unparsed(doc.text[lo:hi])  # Arabic, French: word order
        )

    def parse_into(self, docs: list[Document], spans: list[tuple[int, int]] | None = None) -> None:
        """Parse sentences of these articles in one batch (``spans`` of the one article, or
        what each asked for) and keep their readings in the articles."""
        wanted: list[tuple[Document, int, int]] = []
        for doc in docs:
            for lo, hi in dict.fromkeys(spans if spans is not None else doc.pending or []):
                if (lo, hi) not in doc.readings and self._parsable(doc, lo, hi):
                    doc.parsed += 1
                    doc.readings[(lo, hi)] = None  # until read
                    wanted.append((doc, lo, hi))
        if not wanted or self.parser is None:
            return
        texts = []
        for doc, lo, hi in wanted:
            text = doc.text[lo:hi]
            if lo < doc.title_len:
                hits = doc.hits_in(lo, hi)
                text = _sentence_case(text, [(h.start - lo, h.end - lo) for h in hits])
            texts.append(text.translate(_QUOTES))
        try:
            parses = self.parser.parse(texts)
        except ParserUnavailable:
            self.parser = None
            return
        for (doc, lo, hi), parse in zip(wanted, parses, strict=True):
            mentions = _mentions(doc.hits_in(lo, hi), lo)
            year = doc.when.year if doc.when is not None else None
            doc.readings[(lo, hi)] = roles.read(parse, mentions, self.lexicon, year)


#: an article's sentences parsed at most (a real one has a few candidates; a hostile one,
#: thousands): the rest are read by word order
MAX_PARSED_SENTENCES = 40


#: double quotation marks, each read as a space (same length, so offsets hold): the parser
#: misreads a quoted word or phrase in the middle of a sentence (its fighters *“remain”*
#: besieged … *“as a result of* …” hangs the subject and the cause on the wrong verbs)
_QUOTES = str.maketrans(dict.fromkeys('"“”„«»', " "))


def _mentions(hits: list[ActorHit], lo: int) -> list[readings.Mention]:
    """The role stage's mentions of a sentence's hits; "both sides" is one mention of both."""
    out: list[readings.Mention] = []
    for h in hits:
        if h.each and out and out[-1].each and out[-1].start == h.start - lo:
            last = out.pop()
            out.append(replace(last, actors=(*last.actors, h.actor)))
            continue
        out.append(readings.Mention(h.start - lo, h.end - lo, (h.actor,), h.surface, h.each))
    return out


def _sentence_case(text: str, keep: list[tuple[int, int]]) -> str:
    """A headline in Title Case as a sentence ("Hizbullah Shells Nusra Militants" → "Hizbullah
    shells Nusra militants"), which the parser reads far better; actor names, acronyms and
    the first word keep their case. Same length, so offsets hold."""
    words = list(re.finditer(r"[A-Za-z][\w'’-]*", text))
    if len(words) < 3:
        return text
    capitalised = sum(w.group(0)[0].isupper() for w in words)
    if capitalised * 3 < len(words) * 2:
        return text
    out = list(text)
    for w in words[1:]:
        s = w.start()
        word = w.group(0)
        if word.isupper() or any(a <= s < b for a, b in keep):
            continue
        out[s] = word[0].lower()
    return "".join(out)
