"""Questions refused before retrieval: requests to change the assistant's rules, requests
to write something (a cover letter, a poem), and questions not in English (the guide is
English; quoting it back would not help)."""

from __future__ import annotations

import re

from bot.answer import ABSTAIN_TEXT

ENGLISH_ONLY_TEXT = (
    "I can only answer in English, from the English CPT credential guide. Please ask your "
    "question in English, or contact MSSC or your local assessment center."
)
# Requests to change the assistant's rules are not questions about the guide.
INJECTION = re.compile(
    r"\b(ignore|disregard|forget|override)\b.{0,40}\b(instruction|prompt|rule|guide|above|previous)"
    r"|\bsystem prompt\b|\byou are now\b|\bpretend (to be|you)\b|\bjailbreak\b"
    r"|\b(reveal|print|show|repeat)\b.{0,30}\b(hidden|secret|internal|your)\b.{0,20}"
    r"\b(rules|instructions|prompt|configuration)\b"
    r"|\bfrom now on,? you\b|\byou are an? (unrestricted|unfiltered|jailbroken)\b",
    re.IGNORECASE | re.DOTALL,
)


WRITING_TEXT = (
    "I answer questions about the CPT credential from its guide, with quotes; I can't write "
    "letters, essays or other text for you. Ask me what the guide says, for example what "
    "CPT costs or which employers recognize it."
)
# Asking for a piece of writing, not for what the guide says: "write me a cover letter".
WRITING_REQUEST = re.compile(
    r"\b(write|compose|draft|generate|create|make|give)\b( me| us)?( up)? (a|an|my|some|the)"
    r"( \w+){0,3}? (cover letter|letter|poem|essay|story|song|limerick|haiku|e-?mail|resume|"
    r"résumé|cv|joke|speech|tweet|post|code|script|recipe)s?\b",
    re.IGNORECASE,
)


def word_set(text: str) -> frozenset[str]:
    """Words kept as one string a language: easier to read and extend than 100 literals."""
    return frozenset(text.split())


ENGLISH_HINTS = word_set(
    "the a an is are do does what how when where which who why can i my to of for in on and "
    "with it be should will much long"
)
# Common question and function words of the languages most spoken at home in the US after
# English (none of them an English word as well).
FOREIGN_HINTS = word_set(
    "el la los las que cuánto cuanto cuesta es son para por cómo como qué dónde cuál "
    "puedo necesito tengo hay "  # Spanish
    "quanto custa você posso preciso qual onde não uma "  # Portuguese
    "le les est combien coûte quel quelle pour une des je peux dois où "  # French
    "der die das ist wie viel kostet und ich kann muss wo "  # German
    "costa il gli sono dove perché "  # Italian
    "bao nhiêu là có không tôi của và "  # Vietnamese
    "ang mga ng magkano paano saan ako "  # Tagalog
    "ile jest czy jak gdzie"  # Polish
)
LETTERS = re.compile(r"[^\W\d_]+")


def screen_question(question: str) -> str | None:
    """A reason to refuse before retrieval (prompt injection, not English), or None."""
    if INJECTION.search(question):
        return ABSTAIN_TEXT
    if WRITING_REQUEST.search(question):
        return WRITING_TEXT
    words = LETTERS.findall(question.lower())
    # A word with accents ("certificação") is a hint too; an English question has few.
    foreign = sum(w in FOREIGN_HINTS or not w.isascii() for w in words)
    english = sum(w in ENGLISH_HINTS for w in words)
    if foreign >= 2 and foreign > english:
        return ENGLISH_ONLY_TEXT
    if any(ord(ch) > 0x2FF and ch.isalpha() for ch in question) and english == 0:
        return ENGLISH_ONLY_TEXT  # non-Latin script
    return None
