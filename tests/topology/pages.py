"""A tiny hand-written corpus for the topology tests: three pages of a made-up college, and
a changed version of one of them (what a second run of the ingest job picks up)."""

from __future__ import annotations

from pathlib import Path

PAGES = {
    "parking.md": """# Parking and Transportation

## Parking permits

A semester parking permit costs $45 and is sold at the Campus Safety office in Building 2.
Permits are checked Monday through Friday from 7 a.m. to 6 p.m.

## Shuttle

The free campus shuttle runs every 20 minutes between the north lot and the library.
""",
    "library.md": """# Library

## Opening hours

The library is open from 8 a.m. to 9 p.m. on weekdays and from 10 a.m. to 4 p.m. on Saturdays.

## Borrowing

Students may borrow up to 12 books at a time for three weeks. Laptops can be borrowed for
one day at the circulation desk with a student ID card.
""",
    "admissions.md": """# Admissions

## How to apply

Submit the online application and your high school transcript. There is no application fee.

## Deadlines

Applications for the fall semester are due by August 1. Applications for the spring
semester are due by December 15.
""",
}
# The page the second ingest changes, and a question whose answer moves with it.
CHANGED_PAGE = "parking.md"
CHANGED_QUESTION = "How much does a parking permit cost?"
BEFORE, AFTER = "$45", "$70"


def write_pages(corpus: Path) -> Path:
    corpus.mkdir(parents=True, exist_ok=True)
    for name, text in PAGES.items():
        (corpus / name).write_text(text, encoding="utf-8")
    return corpus


def change_page(corpus: Path) -> None:
    page = corpus / CHANGED_PAGE
    page.write_text(page.read_text(encoding="utf-8").replace(BEFORE, AFTER), encoding="utf-8")
