"""The generated college site's page layout, as a CMS would emit it: header, a top menu of
40 links, breadcrumbs, a per-section sidebar, an "Apply now" box, a footer and a cookie
notice on every page. Half the pages use semantic tags (``<header>``, ``<nav>``, ``<main>``,
``<aside>``, ``<footer>``), half only ``<div class="region ...">`` (as many Drupal and
WordPress themes do), so what repeats cannot be found from the tags alone."""

from __future__ import annotations

from html import escape

from selectolax.lexbor import LexborHTMLParser

from benchmarks.site_text import ADDRESS, COLLEGE, DOMAIN, PHONE

Link = tuple[str, str]  # label, href
NAV: tuple[tuple[str, tuple[Link, ...]], ...] = (
    ("Admissions", (("Apply", "/admissions/apply/"), ("Visit Campus", "/admissions/visit-campus/"),
                    ("Deadlines", "/admissions/deadlines/"),
                    ("Transfer Students", "/admissions/transfer-students/"),
                    ("International", "/admissions/international-students/"))),
    ("Paying for College", (("Tuition and Fees", "/financial-aid/tuition-and-fees/"),
                            ("FAFSA", "/financial-aid/fafsa/"),
                            ("Scholarships", "/financial-aid/scholarships/"),
                            ("Payment Plans", "/financial-aid/payment-plans/"),
                            ("Work-Study", "/financial-aid/work-study/"))),
    ("Academics", (("Programs", "/academics/"), ("Departments", "/academics/departments/"),
                   ("Catalog", "/academics/catalog/"),
                   ("Academic Calendar", "/registrar/academic-calendar/"),
                   ("Honors Program", "/academics/honors/"))),
    ("Student Life", (("Housing", "/housing/apply-for-housing/"),
                      ("Dining", "/housing/meal-plans/"), ("Clubs", "/student-life/clubs/"),
                      ("Athletics", "/athletics/"), ("Health Center", "/student-life/health/"))),
    ("Services", (("Library", "/library/hours/"), ("IT Help Desk", "/it/password-reset/"),
                  ("Registrar", "/registrar/registration/"), ("Tutoring", "/tutoring/"),
                  ("Career Center", "/careers/"))),
    ("About", (("Mission", "/about/mission/"), ("Leadership", "/about/leadership/"),
               ("News", "/news/"), ("Events", "/events/"),
               ("Maps and Directions", "/about/maps/"))),
    ("Resources", (("Policies", "/policies/"), ("Campus Safety", "/safety/"),
                   ("Accessibility", "/accessibility/"), ("Bookstore", "/bookstore/"),
                   ("Jobs at LVC", "/jobs/"))),
    ("Help", (("FAQ", "/admissions/faq/"), ("Contact Us", "/contact/"),
              ("Directory", "/directory/"), ("Report a Problem", "/report/"),
              ("Site Index", "/site-index/"))),
)  # fmt: skip
UTILITY = (("MyLarkspur", "/my/"), ("Canvas", "/canvas/"), ("Email", "/email/"),
           ("Directory", "/directory/"), ("Give", "/give/"))  # fmt: skip
SOCIAL = ("Facebook", "Instagram", "YouTube", "LinkedIn", "TikTok")
TAGLINE = "Learn here. Go anywhere."
COOKIE = (
    "We use cookies to understand how visitors use this site and to improve your "
    "experience. By continuing to browse, you agree to our use of cookies as described in "
    "our Privacy Statement."
)
APPLY = (
    "Ready to start? Applications for the coming term are open now, and most students "
    "finish theirs in about twenty minutes."
)
NONDISCRIMINATION = (
    f"{COLLEGE} does not discriminate on the basis of race, color, religion, national "
    "origin, sex, sexual orientation, gender identity, disability, age, veteran status or "
    "any other status protected by law in its programs, activities or employment. Questions "
    "may be directed to the Title IX Coordinator, Alder Hall, room 210."
)


def _links(links: tuple[Link, ...] | list[Link], cls: str = "") -> str:
    item = f' class="{cls}"' if cls else ""
    return "".join(f'<li{item}><a href="{h}">{escape(t)}</a></li>' for t, h in links)


def _menu() -> str:
    return "".join(
        f'<li class="menu-item--expanded"><span>{escape(top)}</span><ul class="menu">'
        f"{_links(items, 'menu-item')}</ul></li>"
        for top, items in NAV
    )


def _footer_html() -> str:
    social = "".join(f'<li><a href="https://{s.lower()}.example/larkspurvc">{s}</a></li>'
                     for s in SOCIAL)  # fmt: skip
    return (
        f'<div class="footer-contact"><p>{COLLEGE}<br>{ADDRESS}<br>Phone {PHONE}<br>'
        "Monday through Friday, 8 a.m. to 5 p.m.</p></div>"
        f'<ul class="footer-social">{social}</ul>'
        '<ul class="footer-links">'
        + _links(
            [
                ("Privacy", "/privacy/"),
                ("Accessibility", "/accessibility/"),
                ("Title IX", "/title-ix/"),
                ("Consumer Information", "/consumer-info/"),
                ("Emergency Alerts", "/alerts/"),
            ]
        )
        + f'</ul><p class="nondiscrimination">{NONDISCRIMINATION}</p>'
        f'<p class="copyright">\u00a9 2025 {COLLEGE}. All rights reserved.</p>'
    )


def _apply_html() -> str:
    return (f"<h2>Apply now</h2><p>{APPLY}</p><ul>"
            + _links([("Apply now", "/admissions/apply/"), ("Request information", "/rfi/"),
                      ("Visit campus", "/admissions/visit-campus/")]) + "</ul>")  # fmt: skip


def _cookie_html() -> str:
    return (f"<p>{COOKIE}</p><a href='/privacy/'>Privacy Statement</a>"
            "<a href='#' class='cc-accept'>Accept</a>")  # fmt: skip


def _sidebar_html(section: str, links: list[Link]) -> str:
    return f"<h2>{escape(section)}</h2><ul>{_links(links)}</ul>"


def _head(title: str, canonical: str) -> str:
    link = f'<link rel="canonical" href="{canonical}">' if canonical else ""
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{escape(title)} | '
        f'{COLLEGE}</title><meta name="viewport" content="width=device-width, initial-scale=1">'
        f'{link}<link rel="stylesheet" href="/themes/lvc/css/style.css">'
        '<script src="/themes/lvc/js/site.js" defer></script></head>'
    )


def render(
    title: str, main: str, section: str, sidebar: list[Link], crumbs: list[Link],
    semantic: bool, canonical: str = "",
) -> str:  # fmt: skip
    """One page of the site around ``main`` (the page's own content)."""
    crumb = "".join(f'<li><a href="{h}">{escape(t)}</a></li>' for t, h in crumbs)
    utility = f'<ul class="utility-menu">{_links(UTILITY)}</ul>'
    brand = f'<a href="/" class="site-name">{COLLEGE}</a><span class="slogan">{TAGLINE}</span>'
    h1 = f"<h1 class='page-title'>{escape(title)}</h1>"
    if semantic:
        body = (
            '<a class="skip-link" href="#main">Skip to main content</a>'
            f'<header class="masthead" role="banner"><div class="brand">{brand}</div>{utility}'
            f'</header><nav class="main-menu" aria-label="Main"><ul>{_menu()}</ul></nav>'
            f'<ol class="crumbs">{crumb}</ol><div class="page">'
            f'<aside class="sidebar">{_sidebar_html(section, sidebar)}</aside>'
            f'<main id="main">{h1}{main}<section class="cta cta--apply">{_apply_html()}'
            f'</section></main></div><footer class="page-footer">{_footer_html()}</footer>'
            f'<div class="consent-notice">{_cookie_html()}</div>'
        )
    else:
        body = (
            '<div class="dialog-off-canvas-main-canvas"><div class="region region-header">'
            f'<div class="block-branding">{brand}</div>{utility}</div>'
            '<div class="region region-primary-menu"><div class="menu--main">'
            f'<ul class="menu">{_menu()}</ul></div></div>'
            f'<div class="region region-crumbs"><ol>{crumb}</ol></div>'
            '<div class="layout-container"><div class="region region-sidebar-first">'
            f'<div class="block-section-menu">{_sidebar_html(section, sidebar)}</div></div>'
            f'<div class="region region-content"><div class="node__content">{h1}{main}</div>'
            f'<div class="block block-cta">{_apply_html()}</div></div></div>'
            f'<div class="region region-footer">{_footer_html()}</div>'
            f'<div class="eu-cc-banner">{_cookie_html()}</div></div>'
        )
    return f"{_head(title, canonical)}<body>{body}</body></html>\n"


def render_print(title: str, main: str, path: str, canonical: str = "") -> str:
    """The printer-friendly copy of a page: the same main text, no menus."""
    return (
        f"{_head(title, canonical)}<body class='print'><div class='print-header'>{COLLEGE}</div>"
        f"<h1>{escape(title)}</h1>{main}<p class='print-url'>Printed from {DOMAIN}{path}</p>"
        "</body></html>\n"
    )


def boilerplate_blocks(sidebars: dict[str, list[Link]]) -> list[str]:
    """The visible text of every block the site repeats: header, menu, apply box, footer,
    cookie notice and each section's sidebar."""
    fragments = [
        f"{COLLEGE} {TAGLINE}<ul>{_links(UTILITY)}</ul>",
        f"<ul>{_menu()}</ul>",
        _apply_html(),
        _footer_html(),
        _cookie_html(),
        *(_sidebar_html(s, links) for s, links in sorted(sidebars.items())),
    ]
    return [visible_text(f"<html><body>{f}</body></html>") for f in fragments]


def visible_text(html: str) -> str:
    """What a reader sees of a page: the body's text without scripts and styles."""
    tree = LexborHTMLParser(html)
    tree.strip_tags(["script", "style", "noscript", "template"])
    body = tree.body
    return body.text(separator=" ", strip=True) if body is not None else ""
