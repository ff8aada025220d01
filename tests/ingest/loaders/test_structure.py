from bot.ingest.loaders.structure import Run, TextBuilder, is_question, strip_q_prefix


def test_a_short_answer_stays_the_answer_of_its_question() -> None:
    b = TextBuilder()
    b.heading("Visiting", 2)
    b.heading("Where is the office?", 3)
    b.paragraph("Building 4, second floor")
    text, sections, _ = b.build()
    office = sections[1]
    assert office.question and office.path == ("Visiting", "Where is the office?")
    assert text[office.start : office.end] == "Building 4, second floor"
    assert "# Building 4" not in text


def test_a_question_heading_without_an_answer_is_not_a_question_section() -> None:
    b = TextBuilder()
    b.heading("What is a loan?", 2)
    b.heading("Loans", 2)
    b.paragraph("Loans are repaid.")
    _, sections, _ = b.build()
    assert [s.question for s in sections] == [False, False]


def test_bold_and_q_prefixed_lines_start_entries_and_lose_their_prefixes() -> None:
    b = TextBuilder()
    b.heading("FAQ", 2)
    b.block([Run("How do I apply?", bold=True)])
    b.block([Run("Online.")])
    b.block([Run("Q: Is it free?"), Run("\n", brk="hard"), Run("A: Yes, always.")])
    text, sections, _ = b.build()
    assert "### How do I apply?" in text and "### Is it free?" in text
    assert "Q:" not in text and "A:" not in text
    answers = {s.title: text[s.start : s.end] for s in sections if s.question}
    assert answers == {"How do I apply?": "Online.", "Is it free?": "Yes, always."}


def test_a_lone_question_paragraph_followed_by_its_answer_is_an_entry() -> None:
    b = TextBuilder()
    b.paragraph("Can I park on campus?")
    b.paragraph("Yes, in lots A and B")
    text, sections, _ = b.build()
    assert text.startswith("# Can I park on campus?\n\nYes, in lots A and B")
    assert sections[0].question


def test_a_closed_entry_does_not_swallow_the_text_after_it() -> None:
    b = TextBuilder()
    b.heading("Deadlines", 2)
    b.entry("When is the deadline?")
    b.paragraph("August 1.")
    b.close_entry()
    b.paragraph("Still unsure? Call us.")
    text, sections, _ = b.build()
    entry = sections[1]
    assert text[entry.start : entry.end] == "August 1."
    assert "Call us" in text[sections[0].start : sections[0].end]


def test_paragraph_lines_that_look_like_headings_are_escaped() -> None:
    b = TextBuilder()
    b.paragraph("# 1 rated program")
    text, sections, _ = b.build()
    assert text == "\\# 1 rated program\n" and sections == ()


def test_question_rules() -> None:
    assert is_question("How do I apply?")
    assert is_question("Can I park at St. Mary's?")
    prose = (
        "Call the office. It opens at nine and closes at five on weekdays, and at noon on "
        "Saturdays. Any questions?"
    )
    assert len(prose) > 100 and not is_question(prose)
    assert not is_question("Apply online.")
    assert strip_q_prefix("Q. What is ILL?") == ("What is ILL?", True)
    assert strip_q_prefix("Quarter fees") == ("Quarter fees", False)
