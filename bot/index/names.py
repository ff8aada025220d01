"""The names a corpus writes: the initials of the names it spells out, and the words it
writes only with a capital. Question analysis reads a question's words against them."""

from __future__ import annotations

import re
from collections.abc import Iterable

from bot.index.text import STOPWORDS, TOKEN

WORD = re.compile(TOKEN.pattern, re.I)  # text.TOKEN, keeping the case: "SMSCP", "Siemens"
# Where a capital marks no name in the guide: a line, sentence, list item or table cell start.
LINE_START = re.compile(r"(^[\s#>*-]*|[.?!:;|]\s+|[\"'(]\s*)$")


# A run of capitalised words, small words allowed inside: "Long Beach City College",
# "Center for Applied Mathematics".
NAME_RUN = re.compile(r"\b[A-Z][a-z]+(?:(?:\s+(?:of|for|and|the|&|at|in))?\s+[A-Z][a-z]+)+")
SMALL_WORDS = frozenset("of for and the & at in".split())  # noqa: SIM905


def initialisms(texts: Iterable[str]) -> frozenset[str]:
    """The initials of the names a text spells out ("lbcc" for "Long Beach City College",
    "cam" for "Center for Applied Mathematics"): a student types the short form of a name
    the page only writes in full, and it names nothing the page does not mention."""
    found: set[str] = set()
    for text in texts:
        for run in NAME_RUN.findall(text):
            words = run.split()
            # every stretch of the run: "Long Beach City College Library" is also "LBCC"
            for start in range(len(words)):
                for end in range(start + 2, len(words) + 1):
                    part = words[start:end]
                    if part[0] in SMALL_WORDS or part[-1] in SMALL_WORDS:
                        continue
                    found.add("".join(w[0] for w in part if w not in SMALL_WORDS).lower())
                    found.add("".join(w[0] for w in part).lower())
    return frozenset(w for w in found if len(w) >= 2)


def proper_words(texts: Iterable[str]) -> frozenset[str]:
    """Words a text writes with a capital inside its sentences and never in lower case
    ("Siemens", "SMSCP"): names, even when a question types them in lower case."""
    lower: set[str] = set()
    cased: set[str] = set()
    for text in texts:
        for line in text.splitlines():
            for m in WORD.finditer(line):
                word = m[0]
                if word.islower():
                    lower.add(word)
                elif word.lower() != word and not LINE_START.search(line[: m.start()]):
                    cased.add(word.lower())
    return frozenset(w for w in cased - lower - STOPWORDS if len(w) > 1)
