"""Questions refused before retrieval: requests to change the assistant's rules, requests
to write something (a cover letter, a poem), and questions not in English (the pages are
English; quoting them back would not help). It returns a reason; ``refusal_text`` says it
in the words of the site's profile."""

from __future__ import annotations

import re

from bot.config import Profile

INJECTION, WRITING, LANGUAGE = "injection", "writing", "language"
# A request to change the assistant's rules names them: "ignore previous instructions",
# "disregard the guide above". Only these words may stand between the verb and the rules,
# so "What happens if I forget the parking rules?" is a question, not an injection.
_RULE_QUALIFIERS = r"(?:all|any|of|your|the|my|these|those|previous|prior|above|earlier|system)"
_RULES = r"(?:instructions?|prompts?|rules|guidelines|directions|guide|context|programming)"
INJECTION_PATTERN = re.compile(
    rf"\b(?:ignore|disregard|forget|override)\s+(?:{_RULE_QUALIFIERS}\s+){{0,3}}{_RULES}\b"
    r"|\b(?:ignore|disregard|forget)\s+(?:everything|all)\s+(?:above|before|previous)"
    r"|\bsystem prompt\b|\byou are now\b|\bpretend (to be|you)\b|\bjailbreak\b"
    r"|\b(reveal|print|show|repeat)\b.{0,30}\b(hidden|secret|internal|your)\b.{0,20}"
    r"\b(rules|instructions|prompt|configuration)\b"
    r"|\bfrom now on,? you\b|\byou are an? (unrestricted|unfiltered|jailbroken)\b",
    re.IGNORECASE | re.DOTALL,
)
# Asking the assistant for a piece of writing: the verb is addressed to it ("write me a
# cover letter", "can you draft my resume"), at the start of the request. "Do I need to
# write an essay?" and "How do I create an email account?" ask about the pages.
WRITING_PATTERN = re.compile(
    r"^(?:(?:hey|hi|ok|okay),?\s+)?(?:please\s+)?"
    r"(?:(?:can|could|would|will)\s+(?:you|u)\s+(?:please\s+)?|i\s+(?:want|need)\s+you\s+to\s+"
    r"|help\s+me\s+)?"
    r"(?:write|compose|draft|generate|create|make|give)\b( me| us)?( up)? (a|an|my|some|the)"
    r"( \w+){0,3}? (cover letter|letter|poem|essay|story|song|limerick|haiku|e-?mail|resume|"
    r"résumé|cv|joke|speech|tweet|post|code|script|recipe)s?\b",
    re.IGNORECASE,
)


def refusal_text(reason: str, profile: Profile) -> str:
    """What the assistant says when the screen refuses a question, in the site's words."""
    if reason == WRITING:
        return (
            f"I answer questions from {profile.subject}, with quotes; I can't write letters, "
            "essays or other text for you. Ask me what the pages say instead."
        )
    if reason == LANGUAGE:
        ask = f" or ask {profile.contact}" if profile.contact else ""
        return (
            f"I can only answer in English, from {profile.subject}. Please ask your question "
            f"in English{ask}."
        )
    return profile.not_covered


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
    """Why to refuse before retrieval (INJECTION, WRITING or LANGUAGE), or None."""
    if INJECTION_PATTERN.search(question):
        return INJECTION
    if WRITING_PATTERN.search(question.strip()):
        return WRITING
    words = LETTERS.findall(question.lower())
    # A word with accents ("certificação") is a hint too; an English question has few.
    foreign = sum(w in FOREIGN_HINTS or not w.isascii() for w in words)
    english = sum(w in ENGLISH_HINTS for w in words)
    if foreign >= 2 and foreign > english:
        return LANGUAGE
    if any(ord(ch) > 0x2FF and ch.isalpha() for ch in question) and english == 0:
        return LANGUAGE  # non-Latin script
    return None
