"""Rules-engine throughput on one core, two ways:

* the shipped configuration with its parser on the feed farm's kind of text, 2 % of the
  articles holding a sentence that only the parser reads: articles per second, the share of
  articles that reach the parser, the parser's cost per candidate sentence, the model's load
  time and the memory with the model loaded (issue #13: at least 5,000 articles/s);
* 1,000 actors x 5 aliases and 200 keyword terms, no parser, against 10,000 generated
  articles of about 3 KB (issue #3: at least 5,000 articles/s including normalisation,
  sentence splitting and rule evaluation).

Usage: python benchmarks/rules_bench.py [--articles N] [--seed S] [--hard 0.02]
"""

from __future__ import annotations

import argparse
import random
import re
import resource
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from monitor.config import Settings  # noqa: E402
from monitor.match.compiler import compile_rules  # noqa: E402

#: the articles' publication time (dated names are read at it)
NOW = datetime(2026, 11, 22, tzinfo=UTC)
#: articles matched together, as a worker matches a task's documents (32 feeds of 20)
PER_TASK = 640

SYLLABLES = "al ba ka da ra sha mi no tu ze qa fi lo har bin sur dan mer tal kas zor".split()
FILLER = (
    "the of and to in a that for on with as by at from his it an were are which this be or has "
    "had said officials reported on sunday town village province forces near border local "
    "sources told reporters after weeks of talks residents market prices government council "
    "spokesman statement week month year region city north south east west people"
).split()


def name(rng: random.Random, words: int) -> str:
    return " ".join(
        "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 3))).capitalize()
        for _ in range(words)
    )


def build(rng: random.Random) -> tuple[Settings, list[str], list[str]]:
    actors = {}
    aliases: list[str] = []
    seen: set[str] = set()
    while len(actors) < 1000:
        canonical = name(rng, rng.randint(1, 3))
        forms = {canonical}
        while len(forms) < 5:
            forms.add(name(rng, rng.randint(1, 3)))
        if forms & seen:
            continue
        seen |= forms
        n = len(actors)
        acronym = "".join(chr(65 + (n // 26**k) % 26) for k in range(3)) + "Q"
        actors[canonical] = [*sorted(forms - {canonical}), acronym]
        aliases.extend(sorted(forms))  # sorted: set order varies between processes
    terms = sorted({"".join(rng.choice(SYLLABLES) for _ in range(3)) for _ in range(400)})[:200]
    terms = ["clash", "infighting", "rift", "fighting ... between", *terms[4:]]
    settings = Settings.model_validate(
        {
            "actors": actors,
            "keywords": {"conflict": terms[:100], "other": terms[100:]},
            "rules": [
                {"name": "pair", "any": ["conflict"], "min_actors": 2},
                {"name": "any-actor", "any": ["other"], "min_actors": 1, "within": "paragraph"},
            ],
        }
    )
    return settings, aliases, terms


def article(rng: random.Random, aliases: list[str], terms: list[str]) -> tuple[str, str]:
    paragraphs = []
    size = 0
    while size < 3000:
        sentences = []
        for _ in range(rng.randint(2, 5)):
            words = [rng.choice(FILLER) for _ in range(rng.randint(8, 22))]
            if rng.random() < 0.15:
                words.insert(rng.randrange(len(words)), rng.choice(aliases))
            if rng.random() < 0.05:
                words.insert(rng.randrange(len(words)), rng.choice(terms).split()[0])
            sentences.append(" ".join(words).capitalize() + ".")
        paragraph = " ".join(sentences)
        paragraphs.append(paragraph)
        size += len(paragraph)
    return name(rng, 4), "\n\n".join(paragraphs)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--articles", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument(
        "--regex-sample",
        type=int,
        default=300,
        help="articles for the one-regular-expression comparison (0 to skip)",
    )
    ap.add_argument("--hard", type=float, default=0.02, help="share needing the parser")
    args = ap.parse_args()
    shipped_mix(args.articles, args.seed, args.hard)
    rng = random.Random(args.seed)
    settings, aliases, terms = build(rng)
    t0 = time.perf_counter()
    engine = compile_rules(settings)
    compile_s = time.perf_counter() - t0
    docs = [article(rng, aliases, terms) for _ in range(args.articles)]
    mean_kb = sum(len(t) + len(b) for t, b in docs) / len(docs) / 1024
    t0 = time.process_time()
    w0 = time.perf_counter()
    matches = 0
    for title, body in docs:
        matches += len(engine.match(title, body))
    cpu = time.process_time() - t0
    wall = time.perf_counter() - w0
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print("rules benchmark: 1,000 actors x 5 aliases, 200 keyword terms, 2 rules")
    print(f"  compile           {compile_s * 1000:8.0f} ms")
    print(f"  articles          {len(docs):8d}  (mean {mean_kb:.1f} KB)")
    print(f"  matches           {matches:8d}")
    print(f"  wall              {wall:8.2f} s")
    print(f"  articles/s (cpu)  {len(docs) / cpu:8.0f}   target >= 5000")
    print(f"  peak RSS          {peak_mb:8.0f} MB")
    if args.regex_sample:
        # the alternative design: one alternation of every alias and term, case-insensitive,
        # word-bounded; a bare scan with no folding, sentences or rules
        words = sorted({*aliases, *(t.replace(" ... ", " ") for t in terms)}, key=len, reverse=True)
        pattern = re.compile(r"\b(?:" + "|".join(map(re.escape, words)) + r")\b", re.I)
        sample = docs[: args.regex_sample]
        t0 = time.process_time()
        found = sum(len(pattern.findall(f"{t}\n\n{b}")) for t, b in sample)
        rx = len(sample) / (time.process_time() - t0)
        print(
            f"  one regex scan    {rx:8.0f} articles/s  ({found} hits; bare scan, for comparison)"
        )


def shipped_mix(count: int, seed: int, hard: float) -> None:
    """The shipped configuration, with its parser, on the feed farm's kind of text: most
    articles never reach the parser (no two actors near a conflict word, or a plain "A
    clashed with B"); ``hard`` of them hold a sentence only the parser reads."""
    from benchmarks.feed_farm import WORDS, hard_sentence, paragraph, sentence
    from monitor.compiled import load_checked

    _loaded, engine = load_checked(ROOT / "config" / "monitor.yaml")
    parser = engine.parser
    assert parser is not None
    rng = random.Random(seed)
    docs = []
    for _ in range(count):
        title = sentence([rng.choice(WORDS) for _ in range(8)])[:-1]
        body = "\n\n".join(paragraph(rng, rng.randint(25, 45)) for _ in range(4))
        if rng.random() < hard:
            body += "\n\n" + hard_sentence(rng)
        docs.append((title, body))
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    t0 = time.perf_counter()
    problem = parser.problem()  # loads the model, as a worker does on its first parse
    load_s = time.perf_counter() - t0
    if problem:
        raise SystemExit(problem)
    rss_model = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    parsed = [0, 0.0]  # sentences, seconds
    parse = parser.parse

    def timed(sentences: list[str]) -> Any:
        t = time.process_time()
        out = parse(sentences)
        parsed[0] += len(sentences)
        parsed[1] += time.process_time() - t
        return out

    parser.parse = timed  # type: ignore[method-assign]
    reached: set[int] = set()
    parse_into = engine.reader.parse_into

    def noting(docs: list[Any], spans: Any = None) -> None:
        reached.update(id(d) for d in docs)
        parse_into(docs, spans)

    engine.reader.parse_into = noting  # type: ignore[method-assign]
    matches = 0
    t0 = time.process_time()
    for i in range(0, len(docs), PER_TASK):  # as a worker matches a task's feeds together
        batch = [(title, body, NOW) for title, body in docs[i : i + PER_TASK]]
        matches += sum(len(m) for m in engine.match_many(batch))
    cpu = time.process_time() - t0
    reached_share = len(reached) / len(docs)
    print(f"rules benchmark: the shipped configuration, parser {parser.model}, farm-like text")
    print(f"  articles          {len(docs):8d}  ({hard:.0%} with a sentence only the parser reads)")
    print(f"  matches           {matches:8d}")
    print(f"  articles/s (cpu)  {len(docs) / cpu:8.0f}   target >= 5000")
    print(f"  reached parser    {reached_share:8.1%}  of the articles")
    if parsed[0]:
        print(f"  parse             {parsed[1] / parsed[0] * 1000:8.1f} ms a candidate sentence")
    print(f"  model load        {load_s:8.2f} s  (once per process, on its first parse)")
    print(f"  peak RSS          {rss_before:8.0f} MB before the model, {rss_model:.0f} MB with it")


if __name__ == "__main__":
    main()
