"""Regenerate the binary samples of the loader tests (a fictional college's documents).

Run from the repository root: ``.venv/bin/python tests/samples/make_samples.py``.
Needs reportlab (a dev dependency), pypdf with cryptography, and python-docx.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
HEADER = "Harbor Valley Community College - Financial Aid Guide 2026-27"

# (kind, text): "title" 20pt, "h1" 14pt bold, "h2" 12pt bold, "q" bold body, "p" body
# line, "b" a bullet line, "gap" a paragraph break, "page" a page break. Lines are laid
# out as written, so the hyphenated "pro-" / "gram" break is deliberate.
AID_PAGES: list[list[tuple[str, str]]] = [
    [
        ("title", "Financial Aid Guide"),
        ("p", "This guide explains how students at Harbor Valley pay for college."),
        ("gap", ""),
        ("h1", "1 Types of aid"),
        ("p", "Most students combine several kinds of aid. Grants do not have to be"),
        ("p", "repaid; loans do. The federal work-study pro-"),
        ("p", "gram pays students for part-time jobs on campus."),
        ("h2", "1.1 Grants"),
        ("p", "Grants are awarded on financial need:"),
        ("b", "• Pell Grant: up to $7,395 a year for eligible students."),
        ("b", "• Harbor Promise Grant: covers tuition for in-district students"),
        ("p", "  who enrol full-time."),
        ("h2", "1.2 Loans"),
        ("p", "Federal loans must be repaid with interest, starting six months after"),
    ],
    [
        ("p", "you leave college or drop below half-time enrolment."),
        ("gap", ""),
        ("h1", "2 Applying for aid"),
        ("p", "Apply once a year. Aid is awarded in the order complete files arrive."),
        ("h2", "2.1 The FAFSA"),
        ("p", "File the FAFSA at studentaid.gov and list the Harbor Valley school"),
        ("p", "code 004321. The priority date is March 1."),
        ("h2", "2.2 Verification"),
        ("p", "If your file is selected for verification, upload the requested"),
        ("p", "tax documents within 30 days."),
    ],
    [
        ("h1", "3 Frequently asked questions"),
        ("q", "How do I keep my aid next year?"),
        ("p", "Pass at least 67% of the credits you attempt and keep a GPA of 2.0"),
        ("p", "or higher."),
        ("gap", ""),
        ("p", "Q: Can I get aid for summer classes?"),
        ("p", "A: Yes, if you enrol in at least six credits in the summer term."),
        ("gap", ""),
        ("q", "Where is the Financial Aid Office?"),
        ("p", "Building 2, room 110"),
    ],
]


def make_pdf(path: Path) -> None:
    from reportlab.lib.pagesizes import letter
    from reportlab.pdfgen import canvas

    c = canvas.Canvas(str(path), pagesize=letter, invariant=1)
    c.setTitle("Harbor Valley Financial Aid Guide")
    c.setAuthor("Harbor Valley Community College")
    fonts = {
        "title": ("Helvetica-Bold", 20, 30),
        "h1": ("Helvetica-Bold", 14, 24),
        "h2": ("Helvetica-Bold", 12, 20),
        "q": ("Helvetica-Bold", 10, 14),
        "p": ("Helvetica", 10, 14),
        "b": ("Helvetica", 10, 14),
    }
    total = len(AID_PAGES)
    for number, lines in enumerate(AID_PAGES, 1):
        c.setFont("Helvetica", 8)
        c.drawString(72, 750, HEADER)
        c.drawString(280, 40, f"Page {number} of {total}")
        y = 710.0
        for kind, text in lines:
            if kind == "gap":
                y -= 10
                continue
            font, size, step = fonts[kind]
            if kind in ("h1", "h2"):
                y -= 6  # space above a heading
            c.setFont(font, size)
            c.drawString(72, y, text)
            y -= step
        c.showPage()
    c.save()


def make_scanned_pdf(path: Path) -> None:
    """A page with only drawings and no text layer, as a scanner without OCR makes."""
    from reportlab.lib.pagesizes import letter
    from reportlab.pdfgen import canvas

    c = canvas.Canvas(str(path), pagesize=letter, invariant=1)
    for i in range(12):
        c.rect(72, 700 - i * 30, 400 - i * 11, 12, fill=1, stroke=0)
    c.showPage()
    c.save()


def make_encrypted_pdfs(source: Path, locked: Path, owner_only: Path) -> None:
    from pypdf import PdfReader, PdfWriter

    for target, user_password in ((locked, "harbor-secret"), (owner_only, "")):
        writer = PdfWriter(clone_from=PdfReader(source))
        writer.encrypt(user_password=user_password, owner_password="owner", algorithm="AES-128")
        with target.open("wb") as handle:
            writer.write(handle)


def make_docx(path: Path) -> None:
    from docx import Document

    doc = Document()
    props = doc.core_properties
    props.title = "Harbor Valley Student Handbook"
    props.author = "Office of Student Life"
    props.created = props.modified = datetime(2026, 8, 1)
    doc.sections[0].header.paragraphs[0].text = "Draft for review: do not circulate"
    doc.sections[0].footer.paragraphs[0].text = "Harbor Valley Community College handbook footer"
    doc.add_paragraph("Student Handbook", style="Title")
    doc.add_paragraph("This handbook sets out what Harbor Valley expects of its students.")
    doc.add_heading("Student conduct", level=1)
    doc.add_paragraph("Students treat classmates, staff and visitors with respect.")
    doc.add_heading("Attendance", level=2)
    doc.add_paragraph("Instructors take attendance in every class. Students who miss:")
    doc.add_paragraph("two classes in a row get an email from their advisor;", style="List Bullet")
    doc.add_paragraph("a week of classes may be dropped from the course.", style="List Bullet")
    doc.add_paragraph("Labs count double.", style="List Bullet 2")
    hidden = doc.add_paragraph("Late work is accepted for three days. ")
    note = hidden.add_run("INTERNAL NOTE: policy under review.")
    note.font.hidden = True
    doc.add_heading("What happens if I miss an exam?", level=2)
    doc.add_paragraph("Contact your instructor within 48 hours to arrange a make-up exam.")
    doc.add_heading("Frequently asked questions", level=1)
    question = doc.add_paragraph()
    question.add_run("Can I bring a guest to class?").bold = True
    doc.add_paragraph("Only with the instructor's permission.")
    question = doc.add_paragraph()
    question.add_run("Where is the library?").bold = True
    doc.add_paragraph("Building 6, ground floor")
    doc.add_heading("Office hours", level=1)
    doc.add_paragraph("Steps to book a meeting:")
    doc.add_paragraph("Open the student portal.", style="List Number")
    doc.add_paragraph("Choose Book an appointment.", style="List Number")
    table = doc.add_table(rows=3, cols=2)
    for row, cells in zip(
        table.rows,
        [("Office", "Hours"), ("Advising Center", "9 am to 5 pm"), ("Library", "8 am to 10 pm")],
        strict=True,
    ):
        for cell, text in zip(row.cells, cells, strict=True):
            cell.text = text
    doc.save(str(path))


def main() -> None:
    aid = HERE / "harbor-valley-financial-aid.pdf"
    make_pdf(aid)
    make_scanned_pdf(HERE / "scanned-no-text.pdf")
    make_encrypted_pdfs(aid, HERE / "encrypted.pdf", HERE / "owner-locked.pdf")
    make_docx(HERE / "harbor-valley-handbook.docx")
    print(f"wrote samples to {HERE}")


if __name__ == "__main__":
    main()
