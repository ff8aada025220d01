"""Boilerplate indexed once or not at all, and copies of a page as one document: what a
site repeats on every page (header, menus, sidebar, "Apply now" box, footer, cookie
notice) never reaches a chunk, whether the markup names it (<nav>, <footer>) or not
(plain <div>s), while text a small corpus shares between a few files is kept."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from bot.config import Settings
from bot.index.store import GenerationStore, open_location
from bot.ingest.boilerplate import site_documents
from bot.ingest.chunking import chunk_loaded
from bot.ingest.loaders.html import load_html
from bot.ingest.pipeline import ingest
from bot.types import Document
from tests.conftest import HashingEmbeddings

SITE = "https://harbor.example"
MENU = ["Admissions", "Paying for College", "Academics", "Student Life", "About"]
APPLY = (
    "Ready to start? Applications for the spring term are open, and most students "
    "finish theirs in about twenty minutes."
)
ADDRESS = "Harbor Valley College, 200 Pier Street, Harbor, OR 97000"
PHONE = "Phone (541) 555-0100, Monday to Friday"
COOKIE = (
    "We use cookies to understand how visitors use this site. By continuing to browse you "
    "agree to our use of cookies."
)
CHROME = [APPLY, ADDRESS, PHONE, COOKIE, "In this section", "Quick facts"]
TOPICS = [
    ("Tuition", "Tuition is $142 per credit for residents of the district."),
    ("Parking", "A semester parking permit costs $45 and is sold at the cashier window."),
    ("Library hours", "The library opens at 7:30 a.m. on weekdays during the term."),
    ("Transcripts", "Official transcripts are ordered online and cost $10 each."),
    ("Housing", "Laurel Hall houses 220 students in double rooms with shared kitchens."),
    ("Tutoring", "Free tutoring in math and writing is offered in the Learning Center."),
    ("Orientation", "New students attend a half-day orientation before their first term."),
    ("Veterans", "The Veterans Center certifies GI Bill benefits each term."),
    ("Counseling", "Counselors see students by appointment or on a walk-in basis."),
    ("Bookstore", "The bookstore buys back textbooks during the last week of each term."),
    ("Athletics", "Harbor Valley fields teams in soccer, volleyball and cross country."),
    ("Childcare", "The campus childcare center takes children from two to five years old."),
]


def page(title: str, body: str, *, semantic: bool, canonical: str = "", head: str = "") -> str:
    """A page of the site: the shared template around ``body``, either in semantic tags
    the loader already drops or in plain divs with class names it cannot know."""
    menu = "".join(f'<li><a href="/{m.lower()}/">{m}</a></li>' for m in MENU)
    side = (
        "<h3>In this section</h3><ul><li><a href='/a/'>Apply</a></li>"
        "<li><a href='/b/'>Visit</a></li></ul><h3>Quick facts</h3>"
        "<p>Founded 1961</p><p>9,400 students</p>"
    )
    box = f"<h2>Apply now</h2><p>{APPLY}</p><p><a href='/apply/'>Start your application</a></p>"
    foot = f"<p>{ADDRESS}</p><p>{PHONE}</p><p>© 2025 Harbor Valley College</p>"
    link = f'<link rel="canonical" href="{canonical}">' if canonical else ""
    main = f"<h1>{title}</h1>{body}"
    if semantic:
        frame = (
            f"<header><a href='/'>Harbor Valley College</a></header><nav><ul>{menu}</ul></nav>"
            f"<aside>{side}</aside><main>{main}</main><div class='apply-box'>{box}</div>"
            f"<footer>{foot}</footer><div class='cookie-banner'><p>{COOKIE}</p></div>"
        )
    else:
        frame = (
            f"<div class='hv-top'><a href='/'>Harbor Valley College</a><ul>{menu}</ul></div>"
            f"<div class='hv-side'>{side}</div><div class='hv-body'>{main}</div>"
            f"<div class='hv-box'>{box}</div><div class='hv-bottom'>{foot}</div>"
            f"<div class='hv-notice'><p>{COOKIE}</p></div>"
        )
    return f"<html><head><title>{title}</title>{link}{head}</head><body>{frame}</body></html>"


def topic_body(title: str, fact: str) -> str:
    return f"<h2>Overview</h2><p>{fact}</p><h2>Contact</h2><p>Ask the {title} office.</p>"


def web(url: str, html: str) -> Document:
    """A fetched page as ingest sees it (the loader, then the page's address)."""
    return replace(load_html(html.encode(), url), url=url)


def site(campuses: int = 1) -> list[Document]:
    """One page per topic and campus, half of them in semantic tags, half in plain divs."""
    pages = []
    for c in range(campuses):
        for i, (t, f) in enumerate(TOPICS):
            title = t if c == 0 else f"{t} at campus {c + 1}"
            slug = title.lower().replace(" ", "-")
            body = topic_body(title, f)
            pages.append(web(f"{SITE}/{slug}/", page(title, body, semantic=i % 2 == 0)))
    return pages


def chunk_texts(documents: tuple[Document, ...] | list[Document]) -> str:
    return "\n".join(c.embed_text for d in documents for c in chunk_loaded(d))


def test_chrome_repeated_on_every_page_never_reaches_a_chunk() -> None:
    pages = site()
    # Plain divs get past the loader: markup alone cannot be relied on.
    assert all(ADDRESS in d.text and COOKIE in d.text for d in pages[1::2])
    result = site_documents(pages)
    for block in CHROME:  # gone from every page but at most one
        assert len([d.url for d in result.documents if block in d.text]) <= 1, block
        chunks = [c for d in result.documents for c in chunk_loaded(d) if block in c.text]
        assert len(chunks) <= 1, block
    texts = chunk_texts(result.documents)
    for block in (ADDRESS, PHONE, "In this section", "Quick facts", "Founded 1961"):
        assert block not in texts  # lines that are no sentence: not at all
    for _title, fact in TOPICS:  # every page's own text is still there
        assert fact in texts
    assert len(result.documents) == len(pages) and not result.duplicates
    assert result.boilerplate_blocks >= len(CHROME)
    assert result.boilerplate_chars > 0


def test_a_notice_on_every_page_of_a_larger_site_is_not_indexed_at_all() -> None:
    pages = site(campuses=4)
    result = site_documents(pages)
    texts = chunk_texts(result.documents)
    assert not [block for block in CHROME if block in texts]
    assert all(f"the {t} at campus 4 office" in texts for t, _ in TOPICS)


def test_sections_keep_their_headings_and_bodies() -> None:
    result = site_documents(site(campuses=2))
    facts = dict(TOPICS)
    for document in result.documents:
        paths = [s.path for s in document.sections]
        title = document.title
        assert paths == [(title,), (title, "Overview"), (title, "Contact")], paths
        bodies = {s.path[-1]: document.text[s.start : s.end] for s in document.sections}
        assert bodies["Overview"] == facts[title.split(" at campus")[0]]
        assert bodies["Contact"] == f"Ask the {title} office."
        sections = {c.section for c in chunk_loaded(document)}
        assert sections <= {" > ".join(p) for p in paths}


def test_an_answer_repeated_on_many_pages_stays_under_its_question() -> None:
    pages = [
        web(
            f"{SITE}/faq-{i}/",
            page(
                f"FAQ {t}",
                f"<h2>Is {t.lower()} open to visitors?</h2><p>Yes.</p>",
                semantic=i % 2 == 0,
            ),
        )
        for i, (t, _) in enumerate(TOPICS)
    ]
    result = site_documents(pages)
    for document in result.documents:
        answer = [s for s in document.sections if s.question]
        assert len(answer) == 1
        assert document.text[answer[0].start : answer[0].end] == "Yes."
        assert ADDRESS not in document.text


def test_a_sentence_shared_by_files_of_a_small_corpus_is_kept() -> None:
    contact = "<p>Questions? Contact us at help@harbor.example or (541) 555-0199.</p>"
    files = [
        load_html(f"<h1>{t}</h1><p>{f}</p>{contact if i < 2 else ''}".encode(), f"{t}.html")
        for i, (t, f) in enumerate(TOPICS[:3])
    ]
    result = site_documents(files)
    assert result.documents == tuple(files)  # nothing removed, nothing merged
    assert result.boilerplate_blocks == 0 and not result.duplicates
    assert sum("555-0199" in c.text for d in result.documents for c in chunk_loaded(d)) == 2


def test_a_sentence_ending_a_few_pages_is_indexed_once() -> None:
    closing = "Questions about any of this? Call the Welcome Desk at (541) 555-0123."
    files = [
        load_html(f"<h1>{t}</h1><p>{f}</p><p>{closing}</p>".encode(), f"{t}.html")
        for t, f in TOPICS[:5]
    ]
    result = site_documents(files)
    assert sum(closing in c.text for d in result.documents for c in chunk_loaded(d)) == 1
    assert all(fact in chunk_texts(result.documents) for _, fact in TOPICS[:5])


def test_print_version_and_second_address_are_one_document() -> None:
    pages = site()
    tuition = topic_body("Tuition", TOPICS[0][1]) + "".join(
        f"<p>{fact} Tuition covers this for full-time students.</p>" for _, fact in TOPICS[2:]
    )
    pages[0] = web(f"{SITE}/tuition/", page("Tuition", tuition, semantic=True))
    printed = (
        f"<html><body><p>Harbor Valley College</p><h1>Tuition</h1>{tuition}"
        f"<p>Printed from {SITE}/tuition/</p></body></html>"
    )
    parking = page("Parking", topic_body("Parking", TOPICS[1][1]), semantic=True)
    pages += [
        web(f"{SITE}/print/tuition/", printed),
        web(f"{SITE}/parking/index.html", parking),
    ]
    result = site_documents(pages)
    reasons = {s.name: s.reason for s in result.duplicates}
    assert reasons == {
        f"{SITE}/print/tuition/": f"duplicate of {SITE}/tuition/",
        f"{SITE}/parking/index.html": f"duplicate of {SITE}/parking/",
    }
    kept = [d.url for d in result.documents]
    assert f"{SITE}/tuition/" in kept and f"{SITE}/parking/" in kept
    assert len(kept) == len(pages) - 2


def test_a_canonical_link_wins_over_a_shorter_address() -> None:
    pages = site()
    long_url = f"{SITE}/student-services/parking-and-transportation/"
    body = topic_body("Parking", TOPICS[1][1]) + "<p>Updated this term.</p>"
    pages += [
        web(long_url, page("Parking", body, semantic=False, canonical=long_url)),
        # A relative canonical link, resolved against the page's own address.
        web(
            f"{SITE}/p/?ref=home",
            page(
                "Parking",
                body,
                semantic=True,
                canonical="/student-services/parking-and-transportation/",
            ),
        ),
    ]
    result = site_documents(pages)
    assert {s.name: s.reason for s in result.duplicates} == {
        f"{SITE}/p/?ref=home": f"duplicate of {long_url}"
    }
    assert long_url in [d.url for d in result.documents]


def test_ingest_names_copies_and_indexes_no_chrome(
    tmp_path: Path, fake_embeddings: HashingEmbeddings
) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for campus in (1, 2):
        for i, (title, fact) in enumerate(TOPICS):
            html = page(title, topic_body(title, f"{fact} Campus {campus}."), semantic=i % 2 == 0)
            (corpus / f"{title.lower().replace(' ', '-')}-{campus}.html").write_text(html)
    copy = page("Tuition", topic_body("Tuition", f"{TOPICS[0][1]} Campus 1."), semantic=False)
    (corpus / "tuition-1-print-version.html").write_text(copy)
    settings = Settings(corpus_dir=corpus, index_dir=tmp_path / "index", data_dir=tmp_path / "d")
    result = ingest(settings, fake_embeddings)
    assert [(s.name, s.reason) for s in result.skipped] == [
        ("tuition-1-print-version.html", "duplicate of tuition-1.html")
    ]
    store, _ = GenerationStore.open_live(open_location(settings), fake_embeddings)
    stored = "\n".join(c.text for c in store.all_chunks())
    assert not any(block in stored for block in CHROME)
    assert all(f"{fact} Campus 2." in stored for _, fact in TOPICS)
