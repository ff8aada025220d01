"""Scrub personal data from a question before it is logged. Privacy by design: the web team
learns what students ask, never who asked or how to reach them. Replaced, earlier kinds first:
- e-mail addresses -> "[email]": plain (+ tags, subdomains, any case, IDN domains), and
  obfuscated ("jane.doe at gmail dot com", "jdoe(at)cs.example.edu") only when plainly one:
  a bracketed "at", an "AT" in capitals, or a user part with a dot, _ or digit;
- phone numbers -> "[phone]" as libphonenumber reads them for ``region``: valid ones grouped
  sanely, merely possible ones (fictional 555s) only if grouped exactly as ``region`` does;
- IP addresses -> "[ip]": IPv4 and IPv6 shapes that the stdlib ``ipaddress`` accepts, found
  before phones (the digits of "203.0.113.7" could pass for one); not after "v"/"version"
  ("version 2.0.1.5"), and not a bare "::1"-like loopback (at least two groups and a digit);
- ID-like numbers -> "[number]": card and SSN shapes first (libphonenumber finds phones in
  their middle), then any run of 7+ digits with its letter prefix ("A00123456").
Kept byte for byte: all else. Course codes, prices, dates, times, ZIP codes, rooms, counts
identify nobody, and they are what the web team needs to read.
"""

from __future__ import annotations

import functools
import ipaddress
import re
import string
from collections.abc import Callable

import phonenumbers as pn

PLACEHOLDERS = ("[email]", "[phone]", "[number]", "[ip]")
EMAIL, PHONE, NUMBER, IP = PLACEHOLDERS
Span = tuple[int, int, str]
Windows = list[tuple[int, int]]

_LATIN = "".join(map(chr, range(0xC0, 0x250)))  # not CJK: "邮箱jane@…" keeps its 邮箱
_USER_CHARS = string.ascii_letters + string.digits + "!#$%&'*+/=?^_`{|}~-" + _LATIN
_LOCAL = f"[{re.escape(_USER_CHARS)}]"
EMAIL_RE = re.compile(  # IDN labels; a Latin TLD ends at a non-Latin letter ("….com请")
    rf"(?<!{_LOCAL}){_LOCAL}+(?:\.{_LOCAL}+)*@(?:[^\W_](?:[\w-]{{0,61}}[^\W_])?\.)+"
    r"(?:xn--[A-Za-z0-9-]+|[A-Za-z]{2,63}(?![A-Za-z])|[^\W\d_A-Za-z]{2,63})"
)
_AT = r"\s*[\[(]\s*(?:at|AT)\s*[\])]\s*|\s+(?:at|AT)\s+|@"
_DOT = r"(?:\s*[\[(]\s*(?:dot|DOT)\s*[\])]\s*|\s+(?:dot|DOT)\s+|\.)"
_WORD = r"[A-Za-z0-9_%+-]+"
_HOST = rf"{_WORD}(?:{_DOT}{_WORD})*{_DOT}"
_USER = rf"(?<![\w.\[])(?P<user>{_WORD}(?:{_DOT}{_WORD})*)"
OBFUSCATED_RE = re.compile(rf"{_USER}(?P<at>{_AT}){_HOST}[A-Za-z]{{2,24}}(?![A-Za-z])")
USER_LIKE_RE = re.compile(r"[._\d]|\sdot\s", re.IGNORECASE)  # "jane.doe at", not "me at"
DOTTED_RE = re.compile(r"\.[A-Za-z]{2}|dot|DOT")  # cheap looks first: OBFUSCATED_RE is slow
HOST_HINT_RE = re.compile(rf"(?:[\[(]\s*(?:at|AT)\s*[\])]\s*|\s(?:at|AT)\s+|@){_HOST}[A-Za-z]{{2}}")
_SEP = "[ \u00a0.\u2010-\u2015\u2212/-]"
# 7+ digits at most 3 separators apart: the digit passes look only there (most have none).
CLUSTER_RE = re.compile(rf"\d(?:(?:{_SEP}|[()]){{0,3}}\d){{6,}}")
# Digit groups joined by one separator and/or parentheses; not after "$1," or a letter.
PHONE_RE = re.compile(rf"(?:\+\s?|(?<![\w$£€])(?<!\d[,.]))\(?\d+(?:(?:\){_SEP}?|{_SEP})\(?\d+)*")
DATE_RE = re.compile(r"\d{1,4}([/.-])\d{1,2}\1\d{2,4}|\d{4} ?[-/\u2013] ?\d{2,4}")
_CARD = r"(?=2[2-7]|[3-6])(?:\d{4}([ -])\d{4}\1\d{4}\1\d{1,4}|\d{4}([ -])\d{6}\2\d{5})"
CARD_OR_SSN_RE = re.compile(rf"(?<![\d-])(?:{_CARD}|\d{{3}}([ -])\d{{2}}\3\d{{4}})(?![\d-])")
DIGIT_RUN_RE = re.compile(r"(?:(?<![A-Za-z])[A-Za-z]{1,3}-?)?\d{7,}")
DIGITS_RE, AT_SIGN_RE, LOCAL_SEP_RE = re.compile(r"\d+"), re.compile("@"), re.compile(r"\d[.-]\d")
# Candidates only: ``ipaddress`` decides. Not inside a longer dotted or colon-joined run.
IPV4_RE = re.compile(r"(?<![\w.])(?:[0-9]{1,3}\.){3}[0-9]{1,3}(?!\w|\.[0-9])")
IPV6_RE = re.compile(
    r"(?<![\w:])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:[0-9A-Fa-f]{1,4}|(?:[0-9]{1,3}\.){3}[0-9]{1,3})?"
    r"(?![\w:]|\.[0-9])"
)
VERSION_RE = re.compile(r"(?:\bv|\bversion\s*|\brelease\s*|\bbuild\s*)$", re.IGNORECASE)
MIN_DIGITS, MAX_DIGITS = 7, 17  # a local number .. an international one with 00 and trunk


def _groups(text: str, keep: int) -> list[int]:  # digit group sizes of the last keep digits
    drop = sum(lengths := [len(g) for g in DIGITS_RE.findall(text)]) - keep
    while lengths and drop >= lengths[0]:
        drop -= lengths.pop(0)
    return [lengths[0] - drop, *lengths[1:]] if lengths else []


def _is_phone(text: str, region: str) -> bool:
    digits, meta = "".join(DIGITS_RE.findall(text)), pn.PhoneMetadata.metadata_for_region(region)
    desc, trunk = (meta.general_desc, len(meta.national_prefix or "")) if meta else (None, 0)
    sizes = {*desc.possible_length, *desc.possible_length_local_only} if desc else set()
    fits = {len(digits), len(digits) - trunk} & sizes or "+" in text or digits[:1] == "0"
    if DATE_RE.fullmatch(text) or not fits:  # cheap tests first: the parser is slow
        return False  # (and a leading "0" may be an international prefix: "00", "011")
    try:
        number = pn.parse(text, region)
    except pn.NumberParseException:
        return False
    local = LOCAL_SEP_RE.search(text) and pn.ValidationResult.IS_POSSIBLE_LOCAL_ONLY
    if pn.is_possible_number_with_reason(number) not in (pn.ValidationResult.IS_POSSIBLE, local):
        return False  # a local number is "255-2000"; "Room 204 2026" is not one
    nsn = len(pn.national_significant_number(number))
    typed = _groups(text, nsn)
    if typed == _groups(pn.format_number(number, pn.PhoneNumberFormat.NATIONAL), nsn):
        return len(typed) > 1 or pn.is_valid_number(number)  # "5551234567" is an ID to us
    if not pn.is_valid_number(number):
        return False  # possible only, grouped otherwise: "14853 12345" is a ZIP and a code
    # Valid but grouped unlike the national format: the matcher refuses "2 3 4 5 6 7 8 9 10".
    found = pn.PhoneNumberMatcher(text, region, leniency=pn.Leniency.STRICT_GROUPING)
    return any(not DIGITS_RE.search(text[: m.start] + text[m.end :]) for m in found)


def _phones(text: str, windows: Windows, is_phone: Callable[[str], bool]) -> list[Span]:
    spans: list[Span] = []
    for cand in (c for c in _find(PHONE_RE, text, windows) if not DATE_RE.fullmatch(c[0])):
        runs, base, i = list(DIGITS_RE.finditer(cand[0])), cand.start(), 0
        sizes = [len(r[0]) for r in runs]  # <= 7 groups, <= 2 of 1 digit: "1 2 3 4 5 6 7" no
        while i < len(runs):  # the leftmost, then longest, run of groups that is a phone
            starts = [0, runs[0].start()] if i == 0 else [runs[i].start()]  # with "+(" or not
            ends = [j for j in range(min(len(runs), i + 7), i, -1) if sizes[i:j].count(1) <= 2
                    and MIN_DIGITS <= sum(sizes[i:j]) <= MAX_DIGITS]  # fmt: skip
            pieces = ((s, runs[j - 1].end(), j) for j in ends for s in starts)
            hit = next((p for p in pieces if is_phone(cand[0][p[0] : p[1]])), None)
            spans += [(base + hit[0], base + hit[1], PHONE)] if hit else []
            i = hit[2] if hit else i + 1
    return spans


def _luhn(m: re.Match[str]) -> bool:  # an SSN, or a card: cards pass, lists of years seldom
    digits = [int(d) for d in "".join(DIGITS_RE.findall(m[0]))][::-1]
    total = sum(digits[::2]) + sum(sum(divmod(2 * d, 10)) for d in digits[1::2])
    return bool(m[3]) or total % 10 == 0


def _find(rx: re.Pattern[str], text: str, windows: Windows) -> list[re.Match[str]]:
    return [m for lo, hi in windows for m in rx.finditer(text, lo, hi)]


def _ips(text: str) -> list[Span]:
    spans: list[Span] = []
    for m in (
        [*IPV4_RE.finditer(text), *IPV6_RE.finditer(text)] if "." in text or ":" in text else ()
    ):
        v6 = ":" in m[0]
        if VERSION_RE.search(text, max(0, m.start() - 10), m.start()):
            continue
        if v6 and (sum(1 for g in re.split("[:.]", m[0]) if g) < 2 or not DIGITS_RE.search(m[0])):
            continue
        try:
            ipaddress.ip_address(m[0])
        except ValueError:
            continue
        spans.append((m.start(), m.end(), IP))
    return spans


def _mask(text: str, spans: list[Span]) -> str:  # later passes must not see claimed spans
    for start, end, _ in spans:
        text = text[:start] + "\0" * (end - start) + text[end:]
    return text


def _spans(text: str, is_phone: Callable[[str], bool]) -> list[Span]:
    ats = [m.start() for m in AT_SIGN_RE.finditer(text)] if "@" in text else []
    found = _find(EMAIL_RE, text, [(len(text[:p].rstrip(_USER_CHARS + ".")), p + 256) for p in ats])
    masked = _mask(text, spans := [(m.start(), m.end(), EMAIL) for m in found])
    hints = HOST_HINT_RE.finditer(masked) if DOTTED_RE.search(masked) else ()
    found = _find(OBFUSCATED_RE, masked, [(max(0, h.start() - 80), h.end() + 23) for h in hints])
    spans += [(m.start(), m.end(), EMAIL) for m in found
              if m["at"].strip() != "at" or USER_LIKE_RE.search(m["user"])]  # fmt: skip
    masked = _mask(text, spans)
    spans += (ips := _ips(masked))
    masked = _mask(masked, ips)
    windows = [(max(0, c.start() - 4), c.end() + 1) for c in CLUSTER_RE.finditer(masked)]
    for kind in (CARD_OR_SSN_RE, PHONE, DIGIT_RUN_RE):
        new = (_phones(masked, windows, is_phone) if isinstance(kind, str) else
               [(m.start(), m.end(), NUMBER) for m in _find(kind, masked, windows)
                if kind is DIGIT_RUN_RE or _luhn(m)])  # fmt: skip
        spans, masked = spans + new, _mask(masked, new)
    kept: list[Span] = []
    for span in sorted(spans):  # windows overlap: drop a span that overlaps a kept one
        kept += [span] if not kept or span[0] >= kept[-1][1] else []
    return kept


def scrub(text: str, region: str = "US") -> str:
    """``text`` with personal data replaced by PLACEHOLDERS, all else unchanged; never raises."""
    is_phone = functools.cache(lambda p: _is_phone(p, (region or "US").upper()))  # per call
    # Until no span is left: idempotent, and it ends (each pass removes digits, "@" or "at").
    while spans := _spans(text, is_phone):
        for start, end, placeholder in reversed(spans):
            text = text[:start] + placeholder + text[end:]
    return text
