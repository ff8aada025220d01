"""Text handling shared by retrieval and answering: tokens, stems, stop words, and the
shape of a question (is it a follow-up? does it ask for an amount or a duration?)."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Sequence

import numpy as np

from bot.index.sentences import TABLE_RULE

# Words that carry no topic. Split from a string so the list stays readable.
STOPWORDS = frozenset(
    """
    a about above after again all also am an and any are as at be because been before
    being below between both but by can could did do does doing down during each few for
    from further had has have having he her here hers him his how i if in into is it its
    itself just me more most my no nor not now of off on once only or other our ours out
    over own same she should so some such than that the their theirs them then there
    these they this those through to too under until up very was we were what when where
    which while who whom why will with would you your yours yourself get got tell know
    want need please much many long one ones each every anything anywhere something way
    kind go goes going come comes say says said ok okay hi hello hey thanks thank always
    ever still actually really
    i'm i've i'd i'll you're you've it's that's there's what's who's isn't aren't wasn't
    weren't don't doesn't didn't can't couldn't won't wouldn't shouldn't haven't hasn't
    let's
    """.split()  # noqa: SIM905
)
ANAPHORA = frozenset("it its that this they them those these one ones there he she".split())  # noqa: SIM905
# Words that start a question of its own after a connective ("and how long is it?").
ELLIPSIS_BREAKERS = frozenset(
    """
    how what when where which who whom whose why is are was were do does did can could will
    would should shall may might must has have had am i
    """.split()  # noqa: SIM905
)
CONNECTIVES = ("and ", "what about", "how about", "also", "so ", "then ", "but ", "or ")
# Chat shorthand, read as the word it stands for ("hrs" is hours, not a slip for "hers").
SHORTHAND = {
    "hr": "hour",
    "hrs": "hours",
    "yr": "year",
    "yrs": "years",
    "mins": "minutes",
    "ppl": "people",
    "thru": "through",
    "govt": "government",
    "info": "information",
    "req": "requirement",
    "reqs": "requirements",
    "approx": "approximately",
    "hw": "how",  # not "r"/"u": letters of "R&D" and "U.S." would be rewritten too
    "ur": "your",
    "abt": "about",
    "b4": "before",
    "pls": "please",
    "plz": "please",
    "cuz": "because",
}
TOKEN = re.compile(r"[a-z0-9]+(?:[.'][a-z0-9]+)*")
TOKEN_RUN = re.compile(r"[^\W\d_]+")  # letters only, any case and script
# Where a capital marks no name: a sentence's start, and a person's own name ("I'm Maria").
SENTENCE_START = re.compile(r"(^|[.?!:]\s+|[\"'(]\s*|\bI'm\s+|\bI am\s+|\bname is\s+)$", re.I)
# A price ("$90-$120", "~$250", "free") and a salary ("$35K", "$18/hour") look different:
# a question about what a course costs is not answered by what a job pays.
PRICE = re.compile(r"\$\s?\d[\d,.]*(?![\d,.]|\s*K\b)|\bfree\b|\bno[- ](cost|charge|fee)s?\b", re.I)
SALARY = re.compile(r"\$\s?\d[\d,.]*\s*K\b|\$\s?\d[\d,.]*\s*(/|per |an |a )(hr|hour|year)\b", re.I)
# A price or a pay question asks for the amount: it opens with how/what/which, or is terse
# ("OSHA 10 price"). "Who pays for it?", "can WIOA cover the fees?" ask something else.
AMOUNT = r"^(?![^?]*\b(cover|covers|covered|fund\w*|reimburs\w*|waive\w*|afford|pays? for)\b)"
ASKS_HOW = r"\W*(how much|what|what's|whats)\b[^?]*\b"
TERSE = r"\W*(\S+\s+){0,3}"
COST_QUESTION = re.compile(
    r"^\W*how much (do|does|will|would|did|should) (i|you|we)\b[^?]*\bpay\b|"
    rf"{AMOUNT}({ASKS_HOW}(cost|costs|price|prices|fees?|charges?)\b|\W*how much (is|are)\b"
    rf"|{TERSE}(cost|price|fee)s?\W*$)",
    re.I,
)
PAY_QUESTION = re.compile(
    rf"{AMOUNT}({ASKS_HOW}(salary|salaries|wages?|income|earnings|"
    r"(the|starting|entry|base|average|typical|hourly|annual) pay|pay (range|rate)s?)\b"
    rf"|\W*how much [^?]*\b(earn|make|paid)\b|{TERSE}(salary|wages?|pay)\W*$)"
    r"|\bwhat (do|does|will|would) (?!i |you |we )[^?]*\bpay\b(?! for)",  # "what do jobs pay"
    re.I,
)
# "What are the four required modules?", "list the modules": a question for the parts of
# a section, answered by its sub-sections.
LIST_QUESTION = re.compile(
    r"^\W*(?:(?:what|which) (?:are|r)|list|name) (?:the |all )?(?:[\w-]+ ){0,3}?([a-z]+s)\W*$",
    re.I,
)
MONEY_QUESTION = re.compile(r"\b(cost|price|fee|fees|afford|expensive|cheap)\b|\$", re.I)
NUMBER_QUESTION = re.compile(r"\bhow (much|many)\b|\bwhat (score|percent)", re.I)
DURATION_QUESTION = re.compile(r"\bhow (long|soon|quickly|fast)\b|\bhow much time\b", re.I)
DURATION = re.compile(r"\b(minutes?|hours?|days?|weeks?|months?|years?)\b", re.I)
# Where SENTENCE_START can match: "name is" and one character before its \b.
SENTENCE_START_CHARS = 8


def stem(word: str) -> str:
    """A light suffix stemmer: "modules"/"module", "funding"/"funded", "classes"/"class"."""
    if len(word) <= 3 or word.endswith(("ss", "us", "is")):
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith("es") and word[:-2].endswith(("s", "x", "z", "ch", "sh")):
        return word[:-2]
    for suffix in ("ing", "ed"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    if word.endswith("s"):
        return word[:-1]
    return word


def words(text: str) -> list[str]:
    """Content words as written (lower case, no stop words)."""
    return [w for w in TOKEN.findall(text.lower().replace("’", "'")) if w not in STOPWORDS]


def search_words(question: str) -> list[str]:
    """The question's content words for keyword search."""
    return words(question)


def tokenize(text: str) -> list[str]:
    return [stem(w) for w in words(text)]


def resolve_query(question: str, history: Sequence[dict[str, str]]) -> tuple[str, str]:
    """Return (question, topic): topic is the earlier question a follow-up leans on, or ''."""
    topic = ""
    for turn in history:
        if turn.get("role") == "user" and turn.get("content", "").strip():
            text = turn["content"].strip()
            topic = f"{topic} {text}".strip() if is_follow_up(text) and topic else text
    if topic and is_follow_up(question):
        return question, topic[-600:]
    return question, ""


def is_follow_up(question: str) -> bool:
    lowered = question.lower().strip()
    words = TOKEN.findall(lowered)
    if not words:
        return False
    if lowered.startswith(CONNECTIVES) or any(w in ANAPHORA for w in words):
        return True
    return len(tokenize(question)) <= 1


def is_elliptical(question: str) -> bool:
    """A follow-up that asks the earlier question again about something else ("and with an
    AAS?", "what about one module?"): a connective, then no question of its own."""
    rest = TOKEN.findall(question.lower())
    stripped = False
    while rest:
        for connective in (["what", "about"], ["how", "about"], ["and"], ["but"], ["also"], ["or"]):
            if rest[: len(connective)] == connective:
                rest, stripped = rest[len(connective) :], True
                break
        else:
            break
    return stripped and bool(rest) and rest[0] not in ELLIPSIS_BREAKERS


def is_fragment(text: str) -> bool:
    """A title or label ("Registrar — Fall 2026 Course Catalog."): no function words and no
    "label: value" shape. It names a topic without saying anything about it. A list of
    things ("Covers energy efficiency, waste reduction, ...") is content, not a title."""
    raw = TOKEN.findall(text.lower())
    if ":" in text or "|" in text or "," in text or len(raw) < 3:
        return False
    return sum(w in STOPWORDS for w in raw) / len(raw) < 0.1


def is_answer_candidate(text: str, section_titles: set[str]) -> bool:
    """Headings, bare questions and table rules quote nothing useful."""
    stripped = text.strip()
    return not (
        stripped.endswith("?")
        or stripped in section_titles
        or TABLE_RULE.match(stripped) is not None
        or (len(stripped.split()) < 4 and not re.search(r"\d", stripped))
    )


def title_case(question: str) -> bool:
    """A Title Case Question: its capitals mark no names."""
    inner = [w for w in TOKEN_RUN.findall(question)[1:] if w != "I"]
    return sum(w[0].isupper() for w in inner) > len(inner) / 2


def starts_sentence(text: str, at: int) -> bool:
    """``SENTENCE_START.search(text[:at])``, reading only the few characters before the
    word's run of spaces, so a long question is not read again for every word in it."""
    end = at
    while end and text[end - 1].isspace():
        end -= 1
    return SENTENCE_START.search(text, max(0, end - SENTENCE_START_CHARS), at) is not None


def listed_parts(question: str) -> str | None:
    """The plural noun a question asks to have listed ("modules"), if it asks for a list."""
    found = LIST_QUESTION.search(question.strip())
    return found[1].lower() if found else None


class CloseWords:
    """``difflib.get_close_matches(word, words, n=1, cutoff)`` over a fixed list of words,
    with the same answer, for a fraction of the cost: difflib compares a word with every
    word of the list in Python; here its own upper bound on the score (the letters two
    words share) is worked out for the whole list at once, and only the words that can
    reach the cutoff are compared."""

    def __init__(self, words: Iterable[str]) -> None:
        self.words = sorted({w for w in words if w})
        letters = sorted({c for w in self.words for c in w})
        self.column = {c: i for i, c in enumerate(letters)}
        self.counts = np.zeros((len(self.words), len(letters)), dtype=np.int32)
        for row, word in enumerate(self.words):
            for c in word:
                self.counts[row, self.column[c]] += 1
        self.lengths = np.asarray([len(w) for w in self.words], dtype=np.int64)

    def best(self, word: str, cutoff: float) -> str | None:
        if not self.words:
            return None
        counts = np.zeros(len(self.column), dtype=np.int32)
        for c in word:
            column = self.column.get(c)
            if column is not None:
                counts[column] += 1
        shared = np.minimum(self.counts, counts).sum(axis=1)
        # difflib's quick_ratio(): 2 * shared letters / total length, never below ratio().
        bound = 2.0 * shared / (self.lengths + len(word))
        rows = np.flatnonzero(bound >= cutoff - 1e-9)  # the margin: float rounding
        close = difflib.get_close_matches(word, [self.words[r] for r in rows], n=1, cutoff=cutoff)
        return close[0] if close else None
