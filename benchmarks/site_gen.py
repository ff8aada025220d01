"""A whole fictional college web site, generated: ``Larkspur Valley College``.

``generate_site(out_dir, pages=1000, seed=7)`` writes ``pages`` HTML pages (offices,
departments and their courses, scholarships, IT articles, residence halls, policies, news,
events, FAQ pages, printer-friendly copies) and a few PDFs, every page inside the same
header, 40-link menu, footer, cookie notice, "Apply now" box and per-section sidebar. About
ten pages are listed at two addresses (``index.html`` or ``?ref=`` added), some with a
``<link rel="canonical">``; ``sitemap.xml`` is a sitemap index of two sitemaps with
``lastmod`` dates, whose addresses start with ``site_text.DOMAIN`` (``benchmarks.site_server``
serves them with its own address). With ``corpus=True`` only the pages and PDFs are written,
as a corpus folder. The same seed gives the same bytes.

    python -m benchmarks.site_gen OUT_DIR [--pages 1000] [--seed 7] [--corpus]
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import textwrap
from dataclasses import asdict, dataclass, field
from pathlib import Path

from benchmarks import site_pages as pg
from benchmarks.site_layout import Link, boilerplate_blocks, render, render_print, visible_text
from benchmarks.site_text import COLLEGE, DEPTS, DOMAIN, LAST, OFFICES, TOPICS, date, title_of

SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
POLICIES = ("Academic Integrity", "Attendance", "Student Conduct", "Acceptable Use of "
            "Technology", "Drug-Free Campus", "Smoking and Vaping", "Animals on Campus",
            "Grade Appeals", "Incomplete Grades", "Course Repeats", "Credit for Prior Learning",
            "Nondiscrimination", "Campus Speech", "Records Retention", "Weapons",
            "Emergency Closures", "Parking", "Minors on Campus", "Photography and Filming",
            "Accommodations", "Tuition Appeals", "Withdrawal", "Residency", "Fundraising",
            "Service Animals", "Lost and Found", "Posting and Signs", "Facility Use",
            "Travel", "Email Communication")  # fmt: skip
SERVICES = ("Outlook", "Canvas", "OneDrive", "Zoom", "the VPN", "Eduroam Wi-Fi", "MyLarkspur",
            "campus printing", "Teams", "the authenticator app")  # fmt: skip
DEVICES = ("Windows laptop", "Mac", "iPhone", "Android phone", "Chromebook", "iPad")
HALLS = ("Aspen House", "Bluebell Hall", "Camas Hall", "Dogwood House", "Fern Hall",
         "Hawthorn Hall", "Iris Court", "Laurel Hall")  # fmt: skip
LEVELS = ("Introduction to", "", "Applied", "Advanced", "Topics in", "Seminar in", "Studio in")
SHARES = {"scholarship": 0.06, "it": 0.05, "policy": 0.03, "news": 0.14, "event": 0.09}
PDFS = (("student-handbook", "Student Handbook 2025-26"),
        ("financial-aid-guide", "Financial Aid Guide"),
        ("campus-safety-report", "Annual Campus Safety Report"),
        ("housing-handbook", "Residence Life Handbook"),
        ("catalog-supplement", "Catalog Supplement"))  # fmt: skip


@dataclass(frozen=True)
class SiteInfo:
    """What was generated. Paths are URL paths (``/it/wifi/``); ``urls`` is what the
    sitemaps list, in order; ``duplicate_groups`` each hold a page and its copies (print
    version, second address); ``questions`` pair a question with the page that answers it."""

    root: str
    pages: int
    pdfs: int
    visible_bytes: int
    html_bytes: int
    urls: tuple[str, ...]
    content_paths: tuple[str, ...]
    duplicate_groups: tuple[tuple[str, ...], ...]
    boilerplate_blocks: tuple[str, ...]
    questions: tuple[tuple[str, str], ...]
    lastmod: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2)


@dataclass
class _Page:
    path: str
    title: str
    main: str
    section: str
    qa: list[tuple[str, str]]


def file_of(root: Path, path: str) -> Path:
    """Where the page at URL ``path`` lives under ``root`` (``/a/b/`` → ``a/b/index.html``)."""
    rel = path.split("?", 1)[0].lstrip("/")
    return root / (rel + "index.html" if rel.endswith("/") or not rel else rel)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _plan(rng: random.Random, n: int) -> list[_Page]:
    """``n`` pages of content, in proportion to what a college site holds."""
    out: list[_Page] = [
        _Page(
            "/",
            f"Welcome to {COLLEGE}",
            pg.para(f"{COLLEGE} serves about 9,000 students a year in more than 60 programs."),
            "Home",
            [],
        )
    ]
    # Round-robin over the offices, so a small site still has a page of each.
    office_topics = [(o, TOPICS[o][t]) for t in range(10) for o in TOPICS if t < len(TOPICS[o])]
    office_topics = office_topics[: max(6, round(n * 0.045))]
    for office, slug in office_topics:
        title, main, qa = pg.office_page(rng, office, slug)
        out.append(_Page(f"/{office}/{slug}/", title, main, office, qa))
    faq_offices = [o for o in OFFICES if any(p.section == o for p in out)]
    for style, office in enumerate(faq_offices[: max(1, min(6, n // 100 + 1))]):
        facts = [q for p in out if p.section == office for q in p.qa]
        title, main, qa = pg.faq_page(rng, office, facts, style % 3)
        out.append(_Page(f"/{office}/faq/", title, main, office, qa))
    for hall in HALLS[: min(len(HALLS), max(1, n // 120))]:
        title, main, qa = pg.hall_page(rng, hall)
        out.append(_Page(f"/housing/halls/{_slug(hall)}/", title, main, "housing", qa))
    counts = {k: max(1, round(n * share)) for k, share in SHARES.items()}
    names = sorted({f"{a} {b}" for a in LAST for b in ("Family", "Memorial", "Foundation")})
    for name in rng.sample(names, counts["scholarship"]):
        title, main, qa = pg.scholarship_page(rng, name)
        out.append(_Page(f"/financial-aid/scholarships/{_slug(name)}/", title, main,
                         "financial-aid", qa))  # fmt: skip
    combos = [(s, d) for s in SERVICES for d in DEVICES]
    for service, device in rng.sample(combos, min(len(combos), counts["it"])):
        title, main, qa = pg.it_article(rng, service, device)
        out.append(_Page(f"/it/help/{_slug(service + ' ' + device)}/", title, main, "it", qa))
    for i, name in enumerate(POLICIES[: counts["policy"]]):
        title, main, qa = pg.policy_page(rng, name, 100 + 10 * i)
        out.append(_Page(f"/policies/{100 + 10 * i}-{_slug(name)}/", title, main, "policies", qa))
    for kind, maker in (("news", pg.news_page), ("event", pg.event_page)):
        for i in range(counts[kind]):
            title, main, qa = maker(rng, i, rng.choice(DEPTS))
            folder = "news/2025" if kind == "news" else "events"
            out.append(_Page(f"/{folder}/{i:04d}-{_slug(title)[:40]}/", title, main,
                             "news" if kind == "news" else "events", qa))  # fmt: skip
    depts = DEPTS[: min(len(DEPTS), max(2, n // 50))]
    courses = [(d, t, lv) for lv in LEVELS for d in depts for t in d.topics]
    left = max(0, n - len(out) - len(depts))
    numbered: dict[str, list[_Page]] = {d.slug: [] for d in depts}
    for dept, topic, level in courses[:left]:
        number = 101 + 3 * len(numbered[dept.slug])
        title, main, qa = pg.course_page(rng, dept, number, topic, level)
        path = f"/academics/{dept.slug}/{dept.code.lower()}-{number}/"
        numbered[dept.slug].append(_Page(path, title, main, f"academics/{dept.slug}", qa))
    for dept in depts:
        mine = numbered[dept.slug]
        title, main, qa = pg.dept_page(rng, dept, [p.title for p in mine])
        out.append(_Page(f"/academics/{dept.slug}/", title, main, f"academics/{dept.slug}", qa))
        out.extend(mine)
    return out[:n]


def _sidebars(pages: list[_Page]) -> dict[str, list[Link]]:
    menus: dict[str, list[Link]] = {}
    for page in pages:
        items = menus.setdefault(page.section, [])
        if len(items) < 8:
            items.append((page.title.split(":")[0], page.path))
    return menus


def _section_name(section: str) -> str:
    office = OFFICES.get(section)
    if office:
        return office[0]
    dept = next((d.name for d in DEPTS if f"academics/{d.slug}" == section), "")
    return dept or title_of(section)


def _pdf(path: Path, title: str, paragraphs: list[str]) -> None:
    from reportlab.lib.pagesizes import letter
    from reportlab.pdfgen import canvas

    path.parent.mkdir(parents=True, exist_ok=True)
    c = canvas.Canvas(str(path), pagesize=letter, invariant=1)
    c.setTitle(title)
    c.setAuthor(COLLEGE)
    y, page = 0.0, 0
    for n, text in enumerate(paragraphs):
        lines = textwrap.wrap(text, 95)
        if page == 0 or y - 14 * len(lines) < 60:
            if page:
                c.showPage()
            page += 1
            c.setFont("Helvetica", 8)
            c.drawString(72, 750, f"{COLLEGE} - {title}")
            c.drawString(280, 40, f"Page {page}")
            y = 720.0
            if page == 1:
                c.setFont("Helvetica-Bold", 18)
                c.drawString(72, y, title)
                y -= 32
        c.setFont("Helvetica-Bold", 12)
        c.drawString(72, y, f"{n + 1}. Section {n + 1}")
        y -= 18
        c.setFont("Helvetica", 10)
        for line in lines:
            c.drawString(72, y, line)
            y -= 14
        y -= 8
    c.showPage()
    c.save()


def _sitemap(entries: list[tuple[str, str]]) -> str:
    urls = "".join(f"<url><loc>{DOMAIN}{p}</loc><lastmod>{m}</lastmod></url>" for p, m in entries)
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="{SITEMAP_NS}">{urls}</urlset>\n'


def generate_site(
    out_dir: Path | str, pages: int = 1000, seed: int = 7, corpus: bool = False
) -> SiteInfo:
    """Write the site under ``out_dir`` (see the module doc) and describe it."""
    rng, root = random.Random(seed), Path(out_dir)
    n_print = max(1, round(pages * 0.02))
    content = _plan(rng, pages - n_print)
    menus = _sidebars(content)
    chosen = rng.sample([p for p in content if p.path != "/"], min(len(content) - 1, 10 + n_print))
    aliased, printed = chosen[: max(1, min(10, len(chosen) // 3))], chosen[-n_print:]
    groups: list[tuple[str, ...]] = []
    html_bytes = visible = 0
    files: list[tuple[str, str]] = []
    for i, page in enumerate(content):
        canonical = page.path if page in aliased and i % 2 == 0 else ""
        crumbs = [("Home", "/"), (_section_name(page.section), menus[page.section][0][1])]
        files.append((page.path, render(page.title, page.main, _section_name(page.section),
                                        menus[page.section], crumbs, rng.random() < 0.5,
                                        canonical)))  # fmt: skip
    for i, page in enumerate(printed):
        path = "/print" + page.path
        files.append((path, render_print(page.title, page.main, page.path,
                                         page.path if i % 2 else "")))  # fmt: skip
        groups.append((page.path, path))
    for path, html in files:
        target = file_of(root, path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(html, encoding="utf-8")
        html_bytes += len(html.encode())
        visible += len(visible_text(html).encode())
    aliases = []
    for i, page in enumerate(aliased):
        alias = page.path + ("index.html" if i % 2 else "?ref=home")
        aliases.append(alias)
        groups.append((page.path, alias))
    pdf_paths = []
    for slug, title in PDFS[: max(1, min(len(PDFS), pages // 200))]:
        texts = [visible_text(f"<body>{p.main}</body>") for p in rng.sample(content, 4)]
        _pdf(root / "files" / f"{slug}.pdf", title, texts)
        pdf_paths.append(f"/files/{slug}.pdf")
    urls = [p for p, _ in files] + aliases + pdf_paths
    lastmod = {u: f"2025-{rng.randint(1, 9):02d}-{rng.randint(1, 28):02d}" for u in urls}
    if not corpus:
        half = len(urls) // 2
        for n, part in enumerate((urls[:half], urls[half:]), 1):
            text = _sitemap([(u, lastmod[u]) for u in part])
            (root / f"sitemap-{n}.xml").write_text(text, encoding="utf-8")
        index = "".join(f"<sitemap><loc>{DOMAIN}/sitemap-{n}.xml</loc><lastmod>2025-10-01"
                        "</lastmod></sitemap>" for n in (1, 2))  # fmt: skip
        (root / "sitemap.xml").write_text(
            f'<?xml version="1.0" encoding="UTF-8"?>\n<sitemapindex xmlns="{SITEMAP_NS}">'
            f"{index}</sitemapindex>\n", encoding="utf-8")  # fmt: skip
    # One question from each part of the site that states facts, in a seeded order.
    answers = {p.path: p.qa for p in content if p.qa and p.section != "news"}
    parts: dict[str, list[str]] = {}
    for path in sorted(answers):
        parts.setdefault(path.split("/")[1], []).append(path)
    picks = [rng.choice(paths) for _part, paths in sorted(parts.items())]
    named_menus = {_section_name(s): m for s, m in menus.items()}
    return SiteInfo(
        root=str(root),
        pages=len(files),
        pdfs=len(pdf_paths),
        visible_bytes=visible,
        html_bytes=html_bytes,
        urls=tuple(urls),
        content_paths=tuple(p.path for p in content),
        duplicate_groups=tuple(groups),
        boilerplate_blocks=tuple(boilerplate_blocks(named_menus)),
        questions=tuple((answers[p][0][0], p) for p in picks),
        lastmod=lastmod,
    )


def change_pages(info: SiteInfo, count: int = 10, seed: int = 1) -> list[str]:
    """Rewrite the main text of ``count`` pages (a new first paragraph) and move their
    sitemap ``lastmod`` on; returns their paths."""
    rng, root = random.Random(seed), Path(info.root)
    paths = rng.sample([p for p in info.content_paths if p != "/"], count)
    for path in paths:
        target = file_of(root, path)
        html = target.read_text(encoding="utf-8")
        note = (f"<p>Updated {date(rng, 2026)}: this page was revised after the "
                f"{rng.choice(('spring', 'fall'))} review, and the office asks students to "
                f"check it again before their next appointment (revision {seed}).</p>")  # fmt: skip
        target.write_text(html.replace("</h1>", "</h1>" + note, 1), encoding="utf-8")
    for sitemap in root.glob("sitemap-*.xml"):
        text = sitemap.read_text(encoding="utf-8")
        for path in paths:
            loc = re.escape(f"<loc>{DOMAIN}{path}</loc><lastmod>")
            text = re.sub(f"({loc})[^<]*", rf"\g<1>2026-0{seed % 9 + 1}-15", text)
        sitemap.write_text(text, encoding="utf-8")
    return paths


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--pages", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--corpus", action="store_true", help="pages and PDFs only, no sitemaps")
    args = parser.parse_args(argv)
    info = generate_site(args.out_dir, args.pages, args.seed, args.corpus)
    print(f"{info.pages} pages, {info.pdfs} PDFs, {info.visible_bytes / 1e6:.2f} MB of visible "
          f"text ({info.html_bytes / 1e6:.2f} MB of HTML) in {info.root}",
          file=sys.stderr)  # fmt: skip
    print(info.to_json())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
