"""Chunker properties on the real guide and on generated documents."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.index.sentences import readable, sentence_pieces, split_sentences, subject_of
from bot.ingest.chunking import chunk_document, chunk_loaded
from bot.types import Chunk, Document, Section


def assert_partition(text: str, chunks: list[Chunk]) -> None:
    """Every character is in exactly one chunk, or is whitespace between chunks."""
    covered = [0] * len(text)
    for chunk in chunks:
        assert text[chunk.start : chunk.end] == chunk.text
        for i in range(chunk.start, chunk.end):
            covered[i] += 1
    assert max(covered, default=0) <= 1, "chunks overlap"
    skipped = "".join(ch for ch, n in zip(text, covered, strict=True) if n == 0)
    assert skipped.strip() == "", f"non-whitespace left out: {skipped.strip()[:60]!r}"


def test_the_guide_is_partitioned_exactly(guide_text: str) -> None:
    for size in (300, 700, 1000, 2000):
        assert_partition(guide_text, chunk_document(guide_text, "guide.txt", size))


def test_ids_are_stable_and_change_with_the_text(guide_text: str) -> None:
    first = [c.id for c in chunk_document(guide_text, "guide.txt")]
    assert first == [c.id for c in chunk_document(guide_text, "guide.txt")]
    assert len(set(first)) == len(first)
    edited = guide_text.replace("$360-$480", "$370-$490")
    changed = {c.id for c in chunk_document(edited, "guide.txt")} - set(first)
    assert changed  # the chunk holding the price got a new id
    renamed = {c.id for c in chunk_document(guide_text, "other.txt")}
    assert renamed.isdisjoint(first)


def test_sections_follow_implicit_and_numbered_headings(guide_text: str) -> None:
    sections = {c.section for c in chunk_document(guide_text, "guide.txt")}
    assert "The four required modules > 4. Maintenance Awareness" in sections
    assert "Cost and funding" in sections
    assert "How to stack CPT with other credentials > For AAS in Mechatronics students" in sections
    # a heading that is not shaped like the children closes the parent
    assert "Optional fifth module: Green Production" in sections
    assert "CPT vs other entry-level credentials" in sections


def test_the_heading_is_embedded_with_the_chunk(guide_text: str) -> None:
    chunk = next(c for c in chunk_document(guide_text, "guide.txt") if "$360-$480" in c.text)
    assert chunk.embed_text.startswith("Cost and funding")


def test_list_items_keep_their_lead_in(guide_text: str) -> None:
    chunks = chunk_document(guide_text, "guide.txt", 300)
    item_chunk = next(c for c in chunks if c.text.startswith("- Employer apprenticeship"))
    assert "Funding sources for US candidates:" in item_chunk.context
    assert "Funding sources for US candidates:" in item_chunk.embed_text


def test_table_rows_keep_their_header() -> None:
    rows = "\n".join(f"| Cred {i} | scope {i} words here | ${i}0 | people {i} |" for i in range(12))
    text = (
        f"Comparison table\n| Credential | Scope | Cost | Best for |\n|---|---|---|---|\n{rows}\n"
    )
    chunks = chunk_document(text, "t.txt", 200)
    assert len(chunks) > 1
    for chunk in chunks:
        assert "| Credential | Scope | Cost | Best for |" in chunk.text + chunk.context
    row = next(s for s in split_sentences(chunks[-1]) if "Cred 11" in s.text)
    assert readable(row.text, chunks[-1]) == (
        "Credential: Cred 11; Scope: scope 11 words here; Cost: $110; Best for: people 11."
    )


def test_bare_faq_questions_form_an_answerless_chunk(guide_text: str) -> None:
    chunks = chunk_document(guide_text, "guide.txt")
    faq = [c for c in chunks if c.kind == "questions"]
    assert len(faq) == 1
    assert faq[0].section == "Frequently asked questions"
    assert "How long does it take to earn the CPT?" in faq[0].text


def test_markdown_headings_give_the_section_path() -> None:
    text = "# Parking\nLot C is open.\n## Evenings\nUse Lot D after 6 pm.\n# Dorms\nNone.\n"
    chunks = chunk_document(text, "faq.md", 1000)
    assert [c.section for c in chunks] == ["Parking", "Parking > Evenings", "Dorms"]
    assert_partition(text, chunks)


def test_sentences_slice_the_source_and_skip_headings(guide_text: str) -> None:
    for chunk in chunk_document(guide_text, "guide.txt"):
        for span in split_sentences(chunk):
            assert guide_text[span.start : span.end] == span.text
    chunk = next(c for c in chunk_document(guide_text, "guide.txt") if "e.g., CPT-MT" in c.text)
    texts = [s.text for s in split_sentences(chunk)]
    assert any(t.startswith("- Single module (e.g., CPT-MT alone): 4-6 weeks") for t in texts)


def test_a_numbered_heading_is_not_split_and_lends_its_subject(guide_text: str) -> None:
    chunk = next(
        c
        for c in chunk_document(guide_text, "guide.txt")
        if c.section.endswith("4. Maintenance Awareness")
    )
    spans = split_sentences(chunk)
    assert spans[0].text == "4. Maintenance Awareness"
    first_body = spans[1]
    assert first_body.text.startswith("The module most directly relevant")
    assert subject_of(first_body, chunk) == "Maintenance Awareness"
    assert subject_of(spans[2], chunk) == ""


def test_a_long_sentence_is_also_embedded_as_its_clauses_and_list_items(
    guide_text: str,
) -> None:
    chunk = next(c for c in chunk_document(guide_text, "guide.txt") if c.section.endswith("Safety"))
    covers, short = (s for s in split_sentences(chunk) if s.text.startswith(("Covers", "The Saf")))
    pieces = sentence_pieces(chunk, covers)
    # each under its section title, as the whole sentence is
    assert "1. Safety: ergonomics" in pieces and "1. Safety: hazardous-material handling" in pieces
    assert pieces[0].startswith("1. Safety: Covers OSHA-relevant safety procedures")  # a clause
    assert all(p.startswith("1. Safety: ") for p in pieces)
    tiny = Chunk("x", "doc.txt", "Costs", 0, 32, "It costs $90; fees vary by state.")
    assert sentence_pieces(tiny, split_sentences(tiny)[0]) == []  # short: whole is enough
    assert len(short.text.split()) > 12 and sentence_pieces(chunk, short) == []  # no list


LINE = st.one_of(
    st.text(alphabet="abcdefghij ", min_size=3, max_size=60).map(lambda s: s.strip() + "."),
    st.text(alphabet="ABCDE fgh", min_size=3, max_size=30).map(str.strip),  # heading-ish
    st.text(alphabet="abc def", min_size=1, max_size=40).map(lambda s: "- " + s.strip() + "."),
    st.integers(1, 9).map(lambda n: f"{n}. Numbered line {n}"),
    st.text(alphabet="xyz ", min_size=1, max_size=20).map(lambda s: f"| {s} | {s} |"),
    st.just("|---|---|"),
    st.text(alphabet="qrs ", min_size=1, max_size=30).map(lambda s: s.strip() + "?"),
    st.just(""),
    st.just("   "),
    st.integers(1, 3).map(lambda n: "#" * n + " Title"),
)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(LINE, max_size=40),
    st.sampled_from(["doc.txt", "doc.md"]),
    st.sampled_from([100, 400, 1000]),
    st.sampled_from(["\n", "\r\n"]),
)
def test_any_document_is_partitioned_exactly(
    lines: list[str], name: str, size: int, newline: str
) -> None:
    text = newline.join(lines)
    chunks = chunk_document(text, name, size)
    assert_partition(text, chunks)
    for chunk in chunks:
        for span in split_sentences(chunk):
            assert text[span.start : span.end] == span.text
    assert [c.id for c in chunks] == [c.id for c in chunk_document(text, name, size)]


PLAIN_FAQ = """Harbor Valley Admissions FAQ

Where is the admissions office?
Building 4, second floor

How do I apply?
Apply online through the student portal. It takes about 20 minutes.
You will need your high school transcript.

When is the deadline?
March 1 for fall entry.

Contact us
Call the front desk for help.
"""


def test_plain_text_question_lines_become_one_chunk_per_question_and_answer() -> None:
    chunks = chunk_document(PLAIN_FAQ, "faq.txt", 1000)
    by_question = {c.question: c for c in chunks if c.question}
    assert set(by_question) == {
        "Where is the admissions office?",
        "How do I apply?",
        "When is the deadline?",
    }
    # a short answer without a full stop stays the answer, not a heading
    office = by_question["Where is the admissions office?"]
    assert office.section.endswith("Where is the admissions office?")
    assert "Building 4, second floor" in office.text
    assert any(s.text == "Building 4, second floor" for s in split_sentences(office))
    # the question's siblings keep the page title as their parent; a plain heading ends them
    assert by_question["When is the deadline?"].section.startswith("Harbor Valley Admissions FAQ")
    contact = next(c for c in chunks if "front desk" in c.text)
    assert contact.section == "Contact us" and not contact.question
    assert_partition(PLAIN_FAQ, chunks)


def test_a_question_and_its_answer_are_never_split_however_small_the_budget() -> None:
    chunks = chunk_document(PLAIN_FAQ, "faq.txt", 100)
    apply = [c for c in chunks if "student portal" in c.text or "transcript" in c.text]
    assert len(apply) == 1 and apply[0].question == "How do I apply?"


def test_a_list_of_bare_questions_is_no_faq(guide_text: str) -> None:
    index = [c for c in chunk_document(guide_text, "guide.txt") if c.kind == "questions"]
    assert index and all(not c.question for c in index)


def test_loaded_documents_carry_their_page_address_anchor_and_pdf_pages() -> None:
    text = "# Aid\n\nIntro to aid.\n\n## How do I apply for aid?\n\nFile the FAFSA by March 1.\n"
    body = text.index("File")
    doc = Document(
        source="https://hv.example/aid",
        text=text,
        url="https://hv.example/aid",
        kind="html",
        sections=(
            Section(("Aid",), text.index("Intro"), text.index("## How")),
            Section(("Aid", "How do I apply for aid?"), body, len(text), True, "apply"),
        ),
        page_starts=(0, body),
    )
    chunks = chunk_loaded(doc, 1000)
    faq = next(c for c in chunks if c.question)
    assert faq.question == "How do I apply for aid?" and "FAFSA" in faq.text
    assert faq.url == "https://hv.example/aid#apply"
    assert faq.pages == "1-2"
    intro = next(c for c in chunks if "Intro" in c.text)
    assert intro.url == "https://hv.example/aid" and intro.pages == "1"


def test_a_long_answer_stays_one_chunk_with_its_question() -> None:
    answer = " ".join(f"Step {i} of the application takes about {i} minutes." for i in range(80))
    text = f"Admissions\n\nHow do I apply?\n{answer}\n\nWhen is the deadline?\nMarch 1.\n"
    chunks = chunk_document(text, "faq.txt", 300)
    apply = [c for c in chunks if "Step" in c.text]
    assert len(apply) == 1 and apply[0].question == "How do I apply?" and len(answer) > 3000
    assert_partition(text, chunks)
