"""Sentence and paragraph splitting, folding."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.match.text import fold, inflections, normalise, paragraphs, sentences


def split(text: str) -> list[str]:
    return [text[s:e] for s, e in sentences(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The U.S. envoy left. Clashes resumed.", ["The U.S. envoy left.", "Clashes resumed."]),
        ("Gen. Suleimani spoke. He left.", ["Gen. Suleimani spoke.", "He left."]),
        (
            "Bashar al-Assad's forces moved. Hezbollah waited.",
            ["Bashar al-Assad's forces moved.", "Hezbollah waited."],
        ),
        ('"We will fight," he said. "They ran."', ['"We will fight," he said.', '"They ran."']),
        (
            "He said “the rift is real.” Others disagreed.",
            ["He said “the rift is real.”", "Others disagreed."],
        ),
        (
            "Casualties rose to 3.5 percent. No more.",
            ["Casualties rose to 3.5 percent.", "No more."],
        ),
        ("George W. Bush spoke. Then left.", ["George W. Bush spoke.", "Then left."]),
        (
            "Items:\n- Hezbollah moved\n- regime forces left",
            ["Items:", "- Hezbollah moved", "- regime forces left"],
        ),
    ],
)
def test_sentences(text: str, expected: list[str]):
    assert split(text) == expected


def test_hard_wrapped_lines_stay_one_paragraph():
    text = (
        "Fighters loyal to the regime and members of the militia clashed\n"
        "near the airport on Sunday.\n\nA second paragraph."
    )
    assert [text[s:e] for s, e in paragraphs(text)] == [
        "Fighters loyal to the regime and members of the militia clashed\n"
        "near the airport on Sunday.",
        "A second paragraph.",
    ]


def test_single_newlines_between_sentences_are_paragraphs():
    text = "Heavy clashes were reported.\nAnother line starts here."
    assert len(paragraphs(text)) == 2


def test_fold_maps_back_to_original_offsets():
    text = "Nübbul  and Ha\u0301yat"
    f = fold(text)
    assert f.padded == " nubbul and hayat "
    start = f.padded.index("hayat")
    s, e = f.span(start, start + len("hayat"))
    assert text[s:e] == "Ha\u0301yat"


def test_normalise_equates_spellings():
    assert normalise("Hay’at Tahrir al‑Sham") == normalise("HAY'AT TAHRIR AL-SHAM")
    assert normalise("Nübbul") == "nubbul"
    assert normalise("İdlib") == "idlib"


def test_inflections():
    assert {"clash", "clashes", "clashed", "clashing"} <= inflections("clash")
    assert {"spar", "sparred", "sparring"} <= inflections("spar")
    assert inflections("between") == {"between"}


#: pieces of text around which the whitespace and paragraph short cuts could go wrong
_TEXT_PIECES = st.lists(
    st.sampled_from(
        [
            "word",
            "Word.",
            "co-",
            "x",
            " ",
            "  ",
            "\n",
            "\n\n",
            " \n",
            "\n ",
            "-",
            "\t",
            "\r",
            "\xa0",
            "\u2003",
            "é",
            "ﬁ",
            "A",
            "1",
            ".",
            "- ",
            "\n-\n",
            "\x0c",
        ]
    ),
    max_size=40,
)


@settings(max_examples=1000)
@given(_TEXT_PIECES)
def test_folding_short_cut_finds_the_same_whitespace_as_the_full_scan(pieces: list[str]):
    from monitor.match import text as t

    text = "".join(pieces)
    assert t._whitespace_spots(text) == t._whitespace_scan(text)


@settings(max_examples=1000)
@given(_TEXT_PIECES)
def test_one_line_blocks_are_the_paragraphs_the_line_reader_finds(pieces: list[str]):
    from monitor.match import text as t

    text = "".join(pieces)
    expected: list[tuple[int, int]] = []
    for start, end in t._blocks(text):
        t._block_paragraphs(text, start, end, expected)
    assert paragraphs(text) == [s for s in expected if s[1] > s[0]]
