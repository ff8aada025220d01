"""Question analysis: what a question asks, read once before retrieval.

A follow-up is resolved against the earlier user turns it leans on; every word is read
against the corpus's own words (typos fixed, chat shorthand read, a word the corpus never
uses matched to one it does, or counted as unknown); and what is asked for is noted: the
kind of fact ("when", "how many"), the names and numbers a quote must mention, a list.
Retrieval and the answer step read the resulting :class:`~bot.types.Question`; neither
looks at the question's words again.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from bot.answer.kinds import SEVERAL_ASKS, counted, wanted_answer_types
from bot.index.corpus_index import CorpusIndex
from bot.index.text import (
    DURATION_QUESTION,
    MONEY_QUESTION,
    NUMBER_QUESTION,
    PAY_QUESTION,
    is_elliptical,
    listed_parts,
    resolve_query,
    search_words,
)
from bot.types import Question

# Kinds of amount an elliptical follow-up carries over from the question it leans on ("and
# with an AAS?" after a salary question): what a count counted belongs to that question.
CARRIED_KINDS = ("cost", "pay")
# A question for a whole list or breakdown, not one of its items.
LIST_REQUEST = re.compile(
    r"^\W*(?:what|which) (?:are|r|were)\b|^\W*(?:list|name)\b|\bbreak(?:down| ?down| down)\b"
    r"|\bbroken down\b|\bweight(?:ed|s|ing)?\b|\bwhat (?:do|does) (?:\w+ ){1,3}(?:include|cover)\b"
    r"|\b(?:steps|requirements|options|documents)\b",
    re.I,
)
# "and what's the late fee?": the kind of fact asked for is read after the connective.
LEADING_CONNECTIVES = re.compile(r"^\W*(?:(?:and|so|but|also|ok(?:ay)?|then|well)\b[\s,]*)+", re.I)
HINTS = (
    ("money", MONEY_QUESTION),
    ("salary", PAY_QUESTION),
    ("number", NUMBER_QUESTION),
    ("duration", DURATION_QUESTION),
)


def analyze(question: str, history: Sequence[dict[str, str]], index: CorpusIndex) -> Question:
    """Read ``question`` (and the chat turns before it) against the corpus in ``index``."""
    text, topic = resolve_query(question, history)
    # Each word is read once, and a long question's words only so far (MAX_WORD_SEARCHES).
    reading = index.read(text, topic)
    tokens, unknown = index.correct(search_words(text), reading)
    spelled = index.spell(text, reading)
    topic_tokens = index.correct(search_words(topic), reading)[0] if topic else []
    reduced = index.without(text, set(unknown), reading) if unknown else ""
    kinds = wanted_answer_types(LEADING_CONNECTIVES.sub("", spelled))
    if not kinds and topic and is_elliptical(spelled):
        kinds = [k for k in wanted_answer_types(topic) if k in CARRIED_KINDS]
    return Question(
        text=text,
        topic=topic,
        spelled=spelled,
        topic_spelled=index.spell(f"{topic} {text}", reading) if topic else "",
        tokens=tuple(tokens),
        topic_tokens=tuple(topic_tokens),
        unknown=tuple(unknown),
        reduced=index.spell(reduced, reading) if reduced else "",
        kinds=tuple(kinds),
        counts=tuple(counted(spelled, tokens)),
        pinned=tuple(index.pinned(text, reading)),
        unknown_names=tuple(index.unknown_names(text, reading)),
        listed=listed_parts(spelled) or "",
        hints=tuple(name for name, pattern in HINTS if pattern.search(text)),
        several=bool(SEVERAL_ASKS.search(spelled)),
        wants_list=bool(LIST_REQUEST.search(spelled)),
    )
