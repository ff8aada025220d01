"""Hand-written FAQ pages in the training pages' layout (a group folder with a manifest)."""

from __future__ import annotations

from pathlib import Path

import pytest

PAGES = {
    ("services", "maple-parking.md", "Maple Valley College"): """# Parking FAQ

## Where can students park?
Students park in Lot C behind the science building. Lot C opens at 7 a.m.

## How much is a parking permit?
A semester permit costs $45 and is sold at the cashier's office.

## Can visitors park on campus?
Visitors use the metered spaces on Elm Street.
""",
    ("services", "maple-library.md", "Maple Valley College"): """# Library FAQ

## How many books can I borrow?
Students may borrow up to 20 books at a time.

## When is the library open?
The library is open from 8 a.m. to 10 p.m. on weekdays.
""",
    ("courses", "ridge-lab.md", "Ridgeline Institute of Technology"): """# Lab FAQ

## How do I get a lab account?
Ask your instructor to request an account through the department portal.

## Where are the lab computers?
The lab computers are in room 214 of the Engineering Hall.
""",
}


@pytest.fixture
def pages_dir(tmp_path: Path) -> Path:
    root = tmp_path / "pages"
    rows: dict[str, list[str]] = {}
    for (group, name, institution), text in PAGES.items():
        (root / group).mkdir(parents=True, exist_ok=True)
        (root / group / name).write_text(text, encoding="utf-8")
        rows.setdefault(group, []).append(
            "\t".join([name, "owner/repo", "0" * 40, name, institution, "FAQ", "3"])
        )
    for group, lines in rows.items():
        (root / group / "MANIFEST.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return root
