"""``monitor check``: the configuration validated, the rules compiled, the parser loaded."""

from __future__ import annotations

import sys
from pathlib import Path

from monitor.cli.common import EXIT_OK, EXIT_PROBLEMS
from monitor.errors import ConfigError


def check(path: Path) -> int:
    from monitor.compiled import load_checked

    try:
        loaded, engine = load_checked(path)
    except ConfigError as e:
        for problem in e.problems:
            print(f"error: {problem}", file=sys.stderr)
        n = len(e.problems)
        print(f"{path}: {n} problem{'s' if n != 1 else ''}", file=sys.stderr)
        return EXIT_PROBLEMS
    s = loaded.settings
    parser = "no parser (nlp.model: null): word order decides who fights whom"
    if engine.parser is not None:
        unusable = engine.parser.problem()  # loads the model: what `run` would meet
        if unusable is None:
            parser = f"parser {engine.parser.model}"
        else:
            print(f"warning: {path}: {unusable}; until then word order decides", file=sys.stderr)
            parser = "no usable parser"
    print(
        f"{path}: ok — {len(s.sources)} sources, {len(s.actors)} actors, "
        f"{len(s.keywords) + len(s.conflict)} keyword sets, {len(engine.rules)} rules, "
        f"{len(s.channels)} channels; {parser}"
    )
    return EXIT_OK
