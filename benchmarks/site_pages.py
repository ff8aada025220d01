"""The main content of each kind of page of the generated college site: office pages,
departments and courses, scholarships, IT articles, residence halls, policies, news, events
and FAQ pages. Each function takes a seeded ``random.Random`` and returns the page's title,
its main HTML and the (question, answer fact) pairs the page can answer."""

from __future__ import annotations

import random
from html import escape

from benchmarks.site_text import (
    BUILDINGS,
    COLLEGE,
    DAYS,
    OFFICES,
    SHORT,
    TERMS,
    TOPIC_FACTS,
    Dept,
    bullets,
    clock,
    context,
    date,
    filler,
    para,
    person,
    table,
    title_of,
)

Page = tuple[str, str, list[tuple[str, str]]]  # title, main HTML, (question, fact) pairs
FOCUS = ("the foundations", "the main methods", "current practice")
MEET = ("in lecture and lab", "in class", "in a mix of lecture and workshop")
ROLE = (
    "fulfills a general education requirement",
    "is required for the associate degree",
    "transfers to state universities",
)
SUPPORTS = ("career and technical programs", "the sciences", "the arts", "any program")
OWNERS = ("Dean of Students", "Vice President of Instruction", "Human Resources office")
STAGES = ("key terms and foundations of {t}", "case studies in {t}", "lab practice: {t}",
          "review and midterm exam", "project proposal and {t}", "readings on {t}",
          "field trip or guest speaker on {t}", "project work and peer review",
          "presentations and final review", "problem sets on {t}")  # fmt: skip

ACTIONS = ("Complete the online form in MyLarkspur", "Upload any documents requested",
           "Check your student email for a confirmation", "Meet with an advisor if asked",
           "Review your account for holds", "Sign the student responsibility agreement",
           "Bring a photo ID to the office", "Save a copy of your confirmation number")  # fmt: skip
NEEDS = ("your student ID number", "a government-issued photo ID", "unofficial transcripts",
         "your FAFSA confirmation", "a completed request form", "proof of residency",
         "a current email address", "your term schedule")  # fmt: skip


def office_page(rng: random.Random, office: str, slug: str) -> Page:
    name, room = OFFICES[office]
    title = title_of(slug)
    fact_text, question, low, high = TOPIC_FACTS[slug]
    fact = fact_text.format(n=rng.randint(low, high))
    head = rng.choice(("Director", "Coordinator", "Manager"))
    html = [
        para(
            f"The {name} office helps students with {title.lower()} at {COLLEGE}.",
            fact,
            *filler(rng, 2),
        ),
        para(*context(rng, title.lower(), 4)),
        f"<h2 id='what-you-need'>What you need</h2>{bullets(rng.sample(NEEDS, 4))}",
        "<h2 id='steps'>Steps</h2><ol>"
        + "".join(f"<li>{escape(a)}.</li>" for a in rng.sample(ACTIONS, 4))
        + "</ol>",
        "<h2 id='contact'>Contact</h2>",
        para(
            f"{person(rng)}, {head} of {name}, leads the team in {room}.",
            f"Walk-in hours are {clock(rng, 8, 10)} to {clock(rng, 15, 17)}, Monday "
            f"through {rng.choice(DAYS[3:5])}.",
            *filler(rng, 1),
        ),
        para(*context(rng, f"the {name.lower()} office", 2)),
    ]
    return title, "".join(html), [(question, fact)]


def course_page(rng: random.Random, dept: Dept, number: int, topic: str, level: str) -> Page:
    code = f"{dept.code} {number}"
    title = f"{level} {topic[0].upper()}{topic[1:]}".strip() if level else topic.capitalize()
    credits = rng.choice((3, 4, 4, 5))
    prereq = rng.choice(
        (
            "none",
            f"{dept.code} {number - 100 if number > 199 else 90}",
            "MATH 95 or placement",
            "ENG 101 with a C or better",
        )
    )
    outcomes = [
        f"explain the central ideas of {topic} in their own words",
        f"apply {topic} methods to problems drawn from {rng.choice(dept.careers)} work",
        f"read and evaluate sources on {topic} critically",
        "work with classmates on a term project and present the results",
        f"use the tools and vocabulary of {dept.name.lower()} accurately",
        "write a clear report that documents their reasoning",
    ]
    sections = [
        (
            str(rng.randint(10000, 99999)),
            rng.choice(("MW", "TR", "MWF", "Online", "S")),
            f"{clock(rng, 8, 18)}",
            f"{rng.choice(BUILDINGS)} {rng.randint(100, 320)}",
            person(rng),
        )
        for _ in range(rng.randint(2, 4))
    ]
    instructor = sections[0][4]
    html = [
        para(f"{code} covers {topic}: {rng.choice(FOCUS)} and how they are used in the work "
             f"of a {rng.choice(dept.careers)}.",
             f"Students meet {rng.choice(('three', 'four'))} hours a week {rng.choice(MEET)}.",
             f"The course {rng.choice(ROLE)}."),
        "<h2 id='details'>Course details</h2>",
        table(("Credits", "Prerequisite", "Offered", "Grading"),
              [(str(credits), prereq, ", ".join(rng.sample(TERMS, 2)).title(),
                rng.choice(("Letter grade", "Letter grade or pass/no pass")))]),
        "<h2 id='outcomes'>Learning outcomes</h2>",
        para("After completing the course, students will be able to:"),
        bullets(rng.sample(outcomes, 4)),
        "<h2 id='sections'>Sections this term</h2>",
        table(("CRN", "Days", "Time", "Room", "Instructor"), sections),
        para(f"Course materials cost about ${rng.randint(0, 18) * 10}; a free open textbook "
             f"is used in {rng.randint(1, len(sections))} of the sections."),
        "<h2 id='outline'>Weekly outline</h2>",
        bullets([f"Week {w}: {rng.choice(STAGES).format(t=rng.choice(dept.topics))}"
                 for w in range(1, rng.randint(9, 12))]),
        "<h2 id='assessment'>Assessment</h2>",
        table(("Work", "Share of grade"), list(zip(
            ("Exams", "Labs and exercises", "Project", "Participation"),
            rng.choice((("40%", "30%", "20%", "10%"), ("30%", "30%", "30%", "10%"),
                        ("50%", "20%", "20%", "10%"))), strict=True))),
        para(*context(rng, code, 3)),
        "<h2 id='careers'>Where it leads</h2>",
        para(f"{code} prepares students for work as a {rng.choice(dept.careers)} and for "
             f"further study in {dept.name.lower()}.", *context(rng, topic, 3)),
    ]  # fmt: skip
    qa = [
        (f"How many credits is {code}?", f"{code} is {credits} credits"),
        (f"Who teaches {code}?", instructor),
    ]
    return f"{code}: {title}", "".join(html), qa


def dept_page(rng: random.Random, dept: Dept, courses: list[str]) -> Page:
    chair = person(rng)
    html = [
        para(
            f"The {dept.name} department offers an associate degree, two certificates and "
            f"{len(courses)} courses each year.",
            f"Graduates work as {', '.join(dept.careers[:-1])} or {dept.careers[-1]}, or "
            f"transfer to a four-year program.",
            *filler(rng, 1),
        ),
        "<h2 id='faculty'>Faculty</h2>",
        para(f"{chair} chairs the department; offices are in {rng.choice(BUILDINGS)}."),
        bullets([f"{person(rng)}, {rng.choice(dept.topics)}" for _ in range(4)]),
        "<h2 id='courses'>Courses</h2>",
        bullets(courses),
        "<h2 id='advising'>Advising</h2>",
        para(*context(rng, dept.name.lower(), 4)),
    ]
    return f"{dept.name}", "".join(html), [(f"Who chairs the {dept.name} department?", chair)]


def scholarship_page(rng: random.Random, name: str) -> Page:
    amount = rng.choice((500, 750, 1000, 1500, 2000, 2500))
    due = date(rng, 2026)
    html = [
        para(f"The {name} Scholarship awards ${amount:,} to {rng.randint(1, 6)} students a year.",
             f"It was founded by {person(rng)} to support students in {rng.choice(SUPPORTS)}."),
        "<h2 id='eligibility'>Eligibility</h2>",
        bullets([f"Enrolled in at least {rng.choice((6, 9, 12))} credits",
                 f"A cumulative GPA of {rng.choice(('2.0', '2.5', '3.0'))} or higher",
                 rng.choice(("Resident of the college district", "First-generation college student",
                             "Returning adult learner", "Graduate of a district high school"))]),
        "<h2 id='apply'>How to apply</h2>",
        para(f"Applications are due {due} through the scholarship portal.",
             "One letter of recommendation and a 300-word essay are required."),
        "<h2 id='selection'>Selection</h2>",
        para(f"A committee of {rng.randint(3, 7)} faculty and staff reads every application.",
             f"Finalists are notified by email within {rng.randint(3, 8)} weeks of the deadline.",
             *context(rng, "the scholarship application", 3)),
    ]  # fmt: skip
    return (
        f"{name} Scholarship",
        "".join(html),
        [(f"How much is the {name} Scholarship?", f"${amount:,}")],
    )


def it_article(rng: random.Random, service: str, device: str) -> Page:
    steps = [f"Open {rng.choice(('Settings', 'the app store', 'your browser'))} on your {device}",
             f"Sign in to {service} with your full student email address",
             "Approve the sign-in request in the authenticator app",
             f"Choose {rng.choice(('Remember this device', 'Stay signed in', 'Sync now'))}",
             "Restart the app if the account does not appear within a minute"]  # fmt: skip
    html = [
        para(
            f"This article explains how to set up {service} on a {device}.",
            f"It takes about {rng.randint(3, 15)} minutes.",
            "Multi-factor authentication must be set up first.",
        ),
        "<h2 id='steps'>Steps</h2><ol>"
        + "".join(f"<li>{escape(s)}.</li>" for s in steps)
        + "</ol>",
        "<h2 id='trouble'>If it does not work</h2>",
        para(
            f"Error code {rng.randint(100, 999)} means the password has expired; reset it "
            "and try again.",
            "Otherwise contact the IT Help Desk with a screenshot.",
        ),
        para(*context(rng, f"{service} setup", 3)),
    ]
    return f"Set up {service} on a {device}", "".join(html), []


def hall_page(rng: random.Random, hall: str) -> Page:
    beds = rng.randint(9, 40) * 10
    html = [
        para(f"{hall} houses {beds} students in {rng.choice(('doubles', 'suites', 'apartments'))}.",
             f"It opened in {rng.randint(1965, 2020)}; it was renovated in "
             f"{rng.randint(2015, 2024)}."),
        "<h2 id='features'>Features</h2>",
        bullets(rng.sample(["laundry on every floor", "a shared kitchen", "bike storage",
                            "a quiet study lounge", "air conditioning", "a gender-inclusive "
                            "floor", "accessible rooms", "a fitness room"], 4)),
        para(f"The resident director is {person(rng)}."),
        para(*context(rng, "life in the residence halls", 4)),
    ]  # fmt: skip
    return hall, "".join(html), [(f"How many students live in {hall}?", f"{beds} students")]


def policy_page(rng: random.Random, name: str, number: int) -> Page:
    parts = [f"<p>Policy {number} applies to all students, staff and visitors of {COLLEGE}.</p>"]
    for n, heading in enumerate(("Purpose", "Scope", "Procedure", "Responsibilities", "Review"), 1):
        parts.append(f"<h2 id='s{n}'>{n}. {heading}</h2>")
        parts.append(
            para(
                f"{name} {rng.choice(('is reviewed', 'is administered', 'is enforced'))} by the "
                f"{rng.choice(OWNERS)}.",
                f"Concerns are reported within {rng.randint(5, 30)} days through the online form.",
                *filler(rng, 1),
            )
        )
    adopted = date(rng, rng.randint(2005, 2024))
    parts.append(para(f"Adopted {adopted}; last revised {date(rng, 2025)}."))
    return (
        f"Policy {number}: {name}",
        "".join(parts),
        [(f"When was the {name} policy adopted?", adopted)],
    )


def news_page(rng: random.Random, n: int, dept: Dept) -> Page:
    who = person(rng)
    kind = rng.choice(("award", "grant", "event", "program"))
    headline = {
        "award": f"{dept.name} student {who} wins state award",
        "grant": f"{SHORT} receives ${rng.randint(50, 900)},000 grant for {dept.name.lower()}",
        "event": f"{dept.name} hosts {rng.choice(('open house', 'showcase', 'lecture series'))}",
        "program": f"New {rng.choice(dept.topics)} certificate starts this {rng.choice(TERMS)}",
    }[kind]
    body = [
        para(
            f"{date(rng)}. {headline}.",
            f"\u201cThis is a proud moment for our students,\u201d said {person(rng)}, "
            f"who teaches {rng.choice(dept.topics)}.",
            f"The {dept.name} department has grown by {rng.randint(5, 40)} percent in five years.",
        ),
        para(
            f"About {rng.randint(20, 400)} people took part, including students from "
            f"{rng.randint(2, 12)} high schools in the district.",
            *filler(rng, 1),
        ),
        para(
            f"\u201cWe want every student to see a path into {rng.choice(dept.careers)} "
            f"work,\u201d said {person(rng)}, dean of the division, adding that "
            f"{rng.randint(2, 9)} local employers helped shape the plans."
        ),
        para(*context(rng, dept.name.lower(), 3)),
        para(*context(rng, "programs like this one", 3), *filler(rng, 1)),
        para(
            f"More information is available from the {dept.name} department office in "
            f"{rng.choice(BUILDINGS)}."
        ),
    ]
    return headline, "".join(body), []


def event_page(rng: random.Random, n: int, dept: Dept) -> Page:
    when = date(rng, 2026)
    kind = rng.choice(
        ("Workshop", "Open House", "Concert", "Lecture", "Career Fair", "Info Session")
    )
    topic = rng.choice(dept.topics)
    title = f"{dept.name} {kind}: {topic[0].upper()}{topic[1:]}"
    start = clock(rng, 10, 18)
    html = [
        para(
            f"Join us on {when} at {start} in {rng.choice(BUILDINGS)}.",
            f"The {kind.lower()} is free and open to the public; "
            f"{rng.choice(('no registration is needed', 'please register by the day before'))}.",
        ),
        bullets(
            [
                f"Host: {person(rng)}",
                f"Length: {rng.randint(1, 3)} hours",
                f"Parking: Lot {rng.choice('ABCDE')}",
            ]
        ),
        "<h2 id='agenda'>Agenda</h2>",
        bullets(
            [
                f"{clock(rng, 10, 12)}: welcome and introductions",
                f"{clock(rng, 12, 14)}: {rng.choice(dept.topics)} demonstration",
                f"{clock(rng, 14, 16)}: questions and tours",
            ]
        ),
        para(*context(rng, f"the {kind.lower()}", 3)),
    ]
    return title, "".join(html), [(f"When is the {title}?", when)]


def faq_page(rng: random.Random, office: str, facts: list[tuple[str, str]], style: int) -> Page:
    name, room = OFFICES[office]
    pairs = [
        *facts,
        (f"Where is the {name} office?", f"The {name} office is in {room}."),
        (
            f"Can I email the {name} office?",
            "Yes: write from your student email so "
            "staff can find your record, and expect a reply within two business days.",
        ),
    ]
    parts = [para(f"Answers to the questions the {name} office hears most.")]
    for q, a in pairs:
        if style == 0:
            parts.append(f"<h3>{escape(q)}</h3>{para(a)}")
        elif style == 1:
            parts.append(f"<details><summary>{escape(q)}</summary>{para(a)}</details>")
        else:
            parts.append(f"<dl><dt>{escape(q)}</dt><dd>{escape(a)}</dd></dl>")
    return f"{name} FAQ", "".join(parts), []
