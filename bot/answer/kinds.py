"""What a question asks for, and whether a sentence holds it.

"How much is OSHA 10?" asks for a price, "how many questions..." for a count, "who is
the president..." for a person's name. Only a sentence holding that kind of fact, about
the names and numbers the question pins, can answer it; where none of the strong passages
has one, the guide does not say. "What does FAFSA stand for?" is answered by the sentence
that spells it out.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from bot.index.text import COST_QUESTION, PAY_QUESTION, PRICE, SALARY, STOPWORDS, tokenize
from bot.types import ScoredSentence

SEVERAL_ASKS = re.compile(
    r"(,|\band\b|\?)\s*(and\s+)?(how|what|when|where|which|who|can|could|do|does|is|are|will)\b",
    re.I,
)

# Questions that ask for one kind of fact, and what that fact looks like in a sentence.
ANSWER_TYPES: dict[str, tuple[re.Pattern[str], re.Pattern[str]]] = {
    "year": (
        re.compile(
            r"\b(what|which) year\b|\bwhen (was|were|did)\b.*\b(found|establish|"
            r"creat|releas|start|introduc|launch)",
            re.I,
        ),
        re.compile(r"\b(19|20)\d\d\b"),
    ),
    "percent": (
        re.compile(
            r"\bpercent(age)?\b|\b(pass|passing|success|failure) rate\b|"
            r"\bhow much of (the|my|your|a) (final |overall |course )?(grade|mark)\b|"
            r"\b(worth|weigh(t|ted|s)?) (in|of|toward|towards) (the|my|your) (final )?(grade|mark)",
            re.I,
        ),
        re.compile(r"%|\bpercent\b"),
    ),
    "score": (
        re.compile(
            r"\b(passing|pass|cut|minimum|cutoff|cut-off) (score|mark|grade)\b|"
            r"\bscore (do|to|needed|required)\b",
            re.I,
        ),
        re.compile(r"\b\d+\s*(%|percent|points?\b|out of)|\bpassing score\b", re.I),
    ),
    "time": (
        re.compile(r"\bwhat time\b|\bat what hour\b|\bwhat (are the )?hours\b", re.I),
        re.compile(
            r"\b\d{1,2}(:\d\d)?\s*(a\.?m\b\.?|p\.?m\b\.?)|\b\d{1,2}:\d\d\b|\bnoon\b|\bmidnight\b",
            re.I,
        ),
    ),
    "amount": (
        re.compile(
            r"\bhow much (money|aid|funding|financial aid|grant|scholarship|help)\b|"
            r"\b(what|which) amount\b|\b(max|maximum|largest|biggest) (amount|award|grant)\b",
            re.I,
        ),
        re.compile(r"\$\s?\d|\b\d[\d,.]*\s*(dollars|percent|%)", re.I),
    ),
    "place": (
        re.compile(
            r"\b(what|which) (building|room|hall|floor|campus)\b|"
            r"\bwhat (is|are) the (room|building)\b",
            re.I,
        ),
        re.compile(
            r"\b(building|bldg|hall|room|rm|floor|center|centre|library|auditorium|"
            r"suite|lobby|lab|gym|arena|theater|theatre)\b",
            re.I,
        ),
    ),
    "street": (
        re.compile(r"\b(street|mailing|postal|physical) address\b|\bwhat street\b", re.I),
        re.compile(
            r"\b\d{2,6} (?:[NSEW]\.? )?(?:[A-Z][\w'-]* ){1,3}(?:St|Street|Ave|Avenue|Rd|Road|Blvd|"
            r"Boulevard|Dr|Drive|Ln|Lane|Way|Pkwy|Parkway|Hwy|Highway|Ct|Court|Pl|Place)\b"
        ),
    ),
    "contact": (
        re.compile(
            # "email" as a thing, not the verb: "do I have to email them?" asks no address
            r"\b(phone|telephone|fax)\b|\be-?mail (address|addresses)\b|"
            r"\b(what|which)(\W?s| is| are)? (the |their |your |an? )?e-?mail\b|"
            r"\bcontact (number|details|info)|\bwhat number\b[^?]*\b(call|text|dial)\b",
            re.I,
        ),
        re.compile(r"\(?\d{3}\)?[ .-]\d{3}[ .-]\d{4}|@|\bhttps?://|\bwww\.", re.I),
    ),
    "address": (
        re.compile(r"\b(web ?site|web|internet) (address|url|link)\b|\burl\b|\bweb ?page\b", re.I),
        re.compile(r"\bhttps?://|\bwww\.|\b[a-z0-9-]+\.(org|com|gov|edu|net)\b", re.I),
    ),
    "date": (
        re.compile(
            r"\b(what|which) (date|day)\b|\bnext (\w+ ){0,2}(date|session)\b|\bdeadline\b",
            re.I,
        ),
        re.compile(
            r"\b(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.? \d|\b\d{4}-\d\d-\d\d\b|"
            r"\b\d{1,2}/\d{1,2}\b|\b(mon|tues|wednes|thurs|fri|satur|sun)day\b|"
            # a deadline given relative to something: "within two weeks", "by the end of..."
            r"\bwithin \w+ (hours?|days?|weeks?|months?)\b|\bno later than\b|"
            r"\b(by|before) the (end|start|beginning|first|last)\b",
            re.I,
        ),
    ),
    "cost": (
        COST_QUESTION,
        PRICE,
    ),
    "pay": (
        PAY_QUESTION,
        SALARY,
    ),
    "count": (
        re.compile(r"\bhow many\b", re.I),
        re.compile(
            r"\d|\b(one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|dozen|"
            r"hundreds?|thousands?)\b",
            re.I,
        ),
    ),
}


def wanted_answer_types(question: str) -> list[str]:
    """The kinds of fact the question asks for ("cost", "pay", "year"...), if any."""
    return [kind for kind, (asks, _) in ANSWER_TYPES.items() if asks.search(question)]


def answers_kind(
    item: ScoredSentence,
    kinds: Sequence[str],
    pinned: Sequence[str],
    counts: Sequence[str] = (),
    topic: Sequence[str] = (),
) -> bool:
    """Does the sentence hold one of the kinds of fact asked for, about what the question
    pins? Every number it pins ("how much is OSHA 30" is not the OSHA 10 price), one of the
    names ("Maintenance Awareness" is priced as the "Maintenance module"), every word of
    what "how many" counts, and (it or its section) one of the question's other words:
    "how many hours does the exam last?" is not answered by the hours a job allows."""
    text = item.span.text
    names = [pin for pin in pinned if not pin.isdigit()]
    numbers = [pin for pin in pinned if pin.isdigit()]
    about = [t for t in topic if t not in counts and not t.isdigit()]
    return (
        any(ANSWER_TYPES[kind][1].search(text) for kind in kinds)
        and mentions(item, [*numbers, *counts])
        and (not names or mentions(item, names, every=False))
        and (not about or mentions(item, about, every=False))
    )


def counted(question: str, known: Sequence[str]) -> list[str]:
    """What "how many" counts ("questions", "college credit hours"), as the guide's words:
    a number answers only when it counts that."""
    found = re.search(r"\bhow many ((?:[\w'-]+ ?){1,3})", question, re.I)
    nouns: list[str] = []
    for word in found[1].lower().split() if found else []:
        if word in STOPWORDS:
            break
        nouns += [t for t in tokenize(word) if t in known]
    return nouns


def mentions(item: ScoredSentence, pinned: Sequence[str], every: bool = True) -> bool:
    """Does the sentence (or its section title) mention every (or any) name and number
    pinned? The sentence is read once, however many pins there are."""
    text = item.span.text
    tokens = set(tokenize(f"{text} {item.chunk.section}"))
    found = (
        re.search(rf"(?<![\d.]){pin}(?!\d)", text) if pin.isdigit() else pin in tokens
        for pin in pinned
    )
    return all(found) if every else any(found)
