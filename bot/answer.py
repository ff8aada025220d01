from __future__ import annotations
from dataclasses import dataclass, field
@dataclass(frozen=True)
class Citation:
    n: int
    source: str
    section: str
    quote: str
    start: int
    end: int
    passage: str = ""
@dataclass(frozen=True)
class Answer:
    text: str
    citations: list[Citation] = field(default_factory=list)
    abstained: bool = False
