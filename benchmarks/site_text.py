"""The words of the generated college site (``benchmarks.site_gen``): a fictional college,
its offices, departments, people and the templates its pages are written from. Every page's
main text is built here from seeded random choices, as HTML fragments; the layout (header,
menus, footer) lives in ``benchmarks.site_layout``."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

COLLEGE = "Larkspur Valley College"
SHORT = "LVC"
DOMAIN = "http://larkspur.example"  # the sitemaps' origin; the server puts its own in
ADDRESS = "4100 Orchard Road, Larkspur, OR 97999"
PHONE = "(541) 555-0142"

FIRST = ("Maya", "Daniel", "Priya", "Luis", "Hannah", "Omar", "Grace", "Tomás", "Keiko",
         "Elijah", "Fatima", "Noah", "Rosa", "Samuel", "Leah", "Andre", "Mei", "Jonah",
         "Carmen", "Isaac", "Nadia", "Peter", "Amara", "Victor", "Ruth", "Diego", "Ingrid",
         "Malik", "Sofia", "Henry")  # fmt: skip
LAST = ("Alvarez", "Brennan", "Chowdhury", "Delacroix", "Eriksen", "Fujimoto", "Garza",
        "Halvorsen", "Iqbal", "Jimenez", "Kowalski", "Lindqvist", "Mbeki", "Nakamura",
        "Okafor", "Petrov", "Quintero", "Rasmussen", "Sato", "Thornbury", "Umar", "Vance",
        "Whitfield", "Xiong", "Yates", "Zeller", "Abernathy", "Castellano", "Dunmore",
        "Ferreira")  # fmt: skip
BUILDINGS = ("Alder Hall", "Birch Hall", "Cedar Science Center", "Douglas Library",
             "Elm Student Center", "Fir Technology Building", "Grove Arts Center",
             "Hemlock Hall", "Juniper Commons", "Madrone Hall")  # fmt: skip
DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December")  # fmt: skip
TERMS = ("fall", "winter", "spring", "summer")


@dataclass(frozen=True)
class Dept:
    slug: str
    name: str
    code: str
    topics: tuple[str, ...]
    careers: tuple[str, ...]


DEPTS = (
    Dept("biology", "Biology", "BIO", ("cell biology", "genetics", "ecology", "microbiology",
         "human anatomy", "physiology", "botany", "marine biology", "evolution"),
         ("laboratory technician", "nurse", "park ranger")),
    Dept("chemistry", "Chemistry", "CHEM", ("general chemistry", "organic chemistry",
         "analytical chemistry", "biochemistry", "environmental chemistry", "lab safety"),
         ("chemical technician", "pharmacist", "water quality analyst")),
    Dept("mathematics", "Mathematics", "MATH", ("college algebra", "trigonometry", "calculus",
         "linear algebra", "statistics", "discrete mathematics", "differential equations"),
         ("actuary", "data analyst", "math teacher")),
    Dept("computer-science", "Computer Science", "CS", ("programming in Python", "data structures",
         "web development", "databases", "computer networks", "cybersecurity",
         "operating systems", "software engineering"),
         ("software developer", "network administrator", "security analyst")),
    Dept("english", "English", "ENG", ("college composition", "research writing",
         "American literature", "world literature", "creative writing", "technical writing",
         "film and literature"),
         ("editor", "technical writer", "teacher")),
    Dept("history", "History", "HIST", ("United States history", "world civilizations",
         "Pacific Northwest history", "women in history", "the history of science"),
         ("archivist", "museum educator", "paralegal")),
    Dept("nursing", "Nursing", "NUR", ("fundamentals of nursing", "pharmacology",
         "maternal and child health", "mental health nursing", "adult health nursing",
         "clinical practice"), ("registered nurse", "home health nurse", "clinic coordinator")),
    Dept("business", "Business", "BUS", ("accounting", "marketing", "business law",
         "small business management", "personal finance", "human resources",
         "business communication"), ("bookkeeper", "office manager", "sales associate")),
    Dept("art", "Art", "ART", ("drawing", "painting", "ceramics", "photography", "art history",
         "graphic design", "printmaking"), ("graphic designer", "gallery assistant",
         "illustrator")),
    Dept("music", "Music", "MUS", ("music theory", "choir", "jazz ensemble", "music appreciation",
         "piano", "audio recording"), ("sound technician", "music teacher", "performer")),
    Dept("psychology", "Psychology", "PSY", ("general psychology", "developmental psychology",
         "abnormal psychology", "social psychology", "research methods"),
         ("case manager", "behavior technician", "counselor")),
    Dept("welding", "Welding Technology", "WLD", ("shielded metal arc welding", "MIG welding",
         "TIG welding", "blueprint reading", "metal fabrication", "pipe welding"),
         ("welder", "fabricator", "welding inspector")),
    Dept("automotive", "Automotive Technology", "AUTO", ("engine repair", "brakes and suspension",
         "electrical systems", "hybrid vehicles", "engine performance"),
         ("automotive technician", "service writer", "parts specialist")),
    Dept("early-childhood", "Early Childhood Education", "ECE", ("child development",
         "guiding young children", "curriculum for young children", "family partnerships",
         "health, safety and nutrition"), ("preschool teacher", "childcare director",
         "teaching assistant")),
    Dept("economics", "Economics", "ECON", ("microeconomics", "macroeconomics",
         "the economics of health care", "environmental economics"),
         ("research assistant", "budget analyst", "loan officer")),
    Dept("spanish", "Spanish", "SPAN", ("first-year Spanish", "second-year Spanish",
         "Spanish conversation", "Latin American culture"),
         ("interpreter", "bilingual aide", "translator")),
    Dept("physics", "Physics", "PHYS", ("mechanics", "electricity and magnetism",
         "waves and optics", "astronomy", "modern physics"),
         ("engineering technician", "lab assistant", "science teacher")),
    Dept("culinary", "Culinary Arts", "CUL", ("baking and pastry", "garde manger",
         "food safety and sanitation", "menu planning", "international cuisine"),
         ("line cook", "pastry chef", "catering manager")),
)  # fmt: skip

# The offices: each topic page is (slug, title, paragraphs of facts the page states).
OFFICES = {
    "admissions": ("Admissions", "Elm Student Center, room 120"),
    "financial-aid": ("Financial Aid", "Elm Student Center, room 140"),
    "registrar": ("Registrar", "Alder Hall, room 102"),
    "library": ("Library", "Douglas Library, first floor"),
    "it": ("IT Help Desk", "Fir Technology Building, room 110"),
    "housing": ("Housing and Residence Life", "Juniper Commons, room 5"),
}
TOPICS = {
    "admissions": ("apply", "deadlines", "transfer-students", "international-students",
                   "dual-enrollment", "visit-campus", "placement", "returning-students",
                   "veterans", "orientation"),
    "financial-aid": ("fafsa", "grants", "work-study", "loans", "tuition-and-fees",
                      "payment-plans", "satisfactory-progress", "refunds"),
    "registrar": ("registration", "transcripts", "grades", "academic-calendar",
                  "enrollment-verification", "change-of-major", "graduation", "records-privacy"),
    "library": ("hours", "borrowing", "databases", "study-rooms", "interlibrary-loan",
                "printing", "research-help"),
    "it": ("password-reset", "wifi", "student-email", "software", "canvas", "accounts"),
    "housing": ("apply-for-housing", "meal-plans", "move-in", "rates", "community-standards"),
}  # fmt: skip

# One fact per office topic: the sentence is on the page, the question asks for it.
TOPIC_FACTS = {
    "apply": ("The application fee is ${n} and is waived for high school seniors in the "
              "district.", "How much is the application fee?", 15, 40),
    "deadlines": ("Applications for fall term close on August {n}; late applicants may "
                  "still enroll in short-term classes.", "When do fall applications close?",
                  10, 28),
    "transfer-students": ("Up to {n} transferable credits from other regionally accredited "
                          "colleges count toward an associate degree.",
                          "How many transfer credits count toward a degree?", 30, 60),
    "international-students": ("International applicants must show proof of funds of "
                               "${n},000 for one year of study.",
                               "How much money must international students show?", 18, 30),
    "dual-enrollment": ("High school students in grades 11 and 12 may take up to {n} "
                        "credits a term tuition-free.", "How many credits can dual enrollment "
                        "students take?", 6, 12),
    "visit-campus": ("Campus tours leave from the Welcome Desk at {n}:00 a.m. every weekday.",
                     "What time do campus tours start?", 9, 11),
    "placement": ("The math placement test takes about {n} minutes and may be retaken once "
                  "after 14 days.", "How long is the math placement test?", 45, 90),
    "returning-students": ("Students away for more than {n} consecutive terms must submit "
                           "a readmission form.", "When do returning students need to "
                           "reapply?", 2, 4),
    "veterans": ("The Veterans Resource Center in Hemlock Hall is open until {n}:00 p.m. "
                 "on weekdays.", "When does the Veterans Resource Center close?", 5, 7),
    "orientation": ("New student orientation lasts {n} hours and includes lunch.",
                    "How long is new student orientation?", 3, 5),
    "fafsa": ("The priority deadline for the FAFSA is March {n} for the next academic year.",
              "What is the FAFSA priority deadline?", 1, 15),
    "grants": ("The Larkspur Promise Grant covers up to ${n}0 of tuition each term.",
               "How much does the Larkspur Promise Grant cover?", 40, 90),
    "work-study": ("Work-study students may work up to {n} hours a week while classes are "
                   "in session.", "How many hours a week can work-study students work?", 15, 20),
    "loans": ("First-time borrowers must complete loan entrance counseling, which takes "
              "about {n} minutes.", "How long does loan entrance counseling take?", 20, 40),
    "tuition-and-fees": ("Tuition for in-district students is ${n} per credit.",
                         "How much is tuition per credit?", 95, 140),
    "payment-plans": ("Payment plans split the term's balance into {n} monthly payments with "
                      "a $30 enrollment fee.", "How many payments does a payment plan have?", 3, 5),
    "satisfactory-progress": ("Students must complete at least {n} percent of attempted "
                              "credits to keep financial aid.", "What completion rate is "
                              "needed to keep financial aid?", 66, 75),
    "refunds": ("Dropping a class before the {n}th day of the term gives a full refund.",
                "When is the last day for a full refund?", 7, 14),
    "registration": ("Registration for continuing students opens {n} weeks before the term "
                     "starts.", "When does registration open?", 4, 8),
    "transcripts": ("Official transcripts cost ${n} each and are sent within two business "
                    "days.", "How much does an official transcript cost?", 5, 15),
    "grades": ("Final grades are posted in MyLarkspur {n} days after the last day of finals.",
               "When are final grades posted?", 3, 7),
    "academic-calendar": ("Fall term classes begin on September {n}.",
                          "When do fall classes begin?", 20, 28),
    "enrollment-verification": ("Enrollment verification letters are ready within {n} "
                                "business days.", "How long does enrollment verification "
                                "take?", 2, 5),
    "change-of-major": ("A change of major takes effect the term after the form is filed, "
                        "and at most {n} changes are allowed a year.",
                        "How many times a year can I change my major?", 2, 3),
    "graduation": ("The graduation application is due by the end of week {n} of your last "
                   "term.", "When is the graduation application due?", 3, 6),
    "records-privacy": ("Students may restrict directory information by filing the FERPA "
                        "form; it stays in effect for {n} year.", "How long does a FERPA "
                        "restriction last?", 1, 1),
    "hours": ("During the term the library is open until {n}:00 p.m. Monday through Thursday.",
              "How late is the library open on weekdays?", 8, 10),
    "borrowing": ("Students may borrow up to {n} books at a time for three weeks.",
                  "How many books can a student borrow?", 20, 40),
    "databases": ("The library subscribes to {n} research databases, all available off "
                  "campus with your student login.", "How many databases does the library "
                  "have?", 60, 120),
    "study-rooms": ("Group study rooms can be booked for up to {n} hours a day.",
                    "How long can I book a study room?", 2, 4),
    "interlibrary-loan": ("Interlibrary loan books usually arrive in {n} to 10 days.",
                          "How long does an interlibrary loan take?", 5, 7),
    "printing": ("Black-and-white printing costs {n} cents a page.",
                 "How much does printing cost in the library?", 8, 15),
    "research-help": ("Librarians answer chat questions until {n}:00 p.m. on weekdays.",
                      "When is library chat help available?", 6, 9),
    "password-reset": ("A new password must be at least {n} characters long.",
                       "How long must a new password be?", 12, 16),
    "wifi": ("Connect to the LVC-Secure network with your student email and password; "
             "guests get {n} hours on LVC-Guest.", "How long can guests use the Wi-Fi?", 4, 12),
    "student-email": ("Student email accounts hold {n} GB and stay active for a year after "
                      "your last class.", "How much storage does student email have?", 25, 100),
    "software": ("Students may install the office suite on up to {n} personal devices at no "
                 "cost.", "How many devices can I install the office suite on?", 3, 5),
    "canvas": ("Courses appear in Canvas {n} days before the term starts.",
               "When do courses show up in Canvas?", 3, 7),
    "accounts": ("New accounts are created within {n} hours of registering for a class.",
                 "When is my student account created?", 24, 48),
    "apply-for-housing": ("The housing deposit is ${n}, refundable until June 1.",
                          "How much is the housing deposit?", 150, 300),
    "meal-plans": ("The standard meal plan includes {n} meals a week plus dining dollars.",
                   "How many meals a week does the standard meal plan include?", 10, 19),
    "move-in": ("Fall move-in begins on September {n} at 9:00 a.m.",
                "When is fall move-in?", 14, 20),
    "rates": ("A shared room costs ${n}0 a term, utilities and internet included.",
              "How much does a shared room cost?", 180, 260),
    "community-standards": ("Quiet hours begin at {n}:00 p.m. on weeknights.",
                            "When do quiet hours start in the residence halls?", 9, 11),
}  # fmt: skip

FILLER = (
    "Staff are glad to walk you through each step in person, by phone or by email.",
    "Most questions can be settled in one visit if you bring your student ID number.",
    "Forms are available online and at the front desk, and completed forms may be "
    "returned either way.",
    "Processing usually takes three to five business days during the busiest weeks of the term.",
    "Students taking classes online can complete every step without coming to campus.",
    "If your situation is unusual, ask for an appointment so an advisor can review it with you.",
    "Information on this page is reviewed each term and may change with state rules.",
    "Evening appointments are available on Tuesdays and Thursdays during the first two "
    "weeks of each term.",
)


# Sentences any page may add about its subject, as real pages carry context around the facts.
CONTEXT = (
    "Many students combine {s} with part-time work, and advisors help plan a schedule that fits.",
    "Questions about {s} are best raised early in the term, before deadlines approach.",
    "The college reviews {s} every year with input from students, faculty and staff.",
    "Students who speak a language other than English can ask for help with {s} in Spanish, "
    "Vietnamese or Russian.",
    "Workshops on {s} run in the first three weeks of fall and winter terms.",
    "Graduates often say that {s} was one of the most useful parts of their time at the college.",
    "If you are unsure whether {s} applies to you, the staff can check your record with you.",
    "Recent changes to {s} were announced in the student newsletter and on MyLarkspur.",
    "Support for {s} is also available at the Riverside Center for students in the east county.",
    "Students with a disability who need an accommodation for {s} can contact Accessibility "
    "Services before the term begins.",
    "Tutors in the Learning Commons can help with {s} on weekdays and Sunday afternoons.",
    "A short video on MyLarkspur walks through {s} step by step.",
)


def context(rng: random.Random, subject: str, n: int) -> list[str]:
    return [t.format(s=subject) for t in rng.sample(CONTEXT, n)]


def person(rng: random.Random) -> str:
    return f"{rng.choice(FIRST)} {rng.choice(LAST)}"


def para(*sentences: str) -> str:
    return "<p>" + " ".join(escape(s) for s in sentences if s) + "</p>"


def bullets(items: list[str]) -> str:
    return "<ul>" + "".join(f"<li>{escape(i)}</li>" for i in items) + "</ul>"


def table(head: tuple[str, ...], rows: Sequence[tuple[str, ...]]) -> str:
    th = "".join(f"<th>{escape(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in r) + "</tr>" for r in rows)
    return f'<table class="table"><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>'


def title_of(slug: str) -> str:
    special = {"fafsa": "FAFSA", "it": "IT", "wifi": "Wi-Fi", "canvas": "Canvas"}
    return " ".join(special.get(w, w.capitalize()) for w in slug.split("-")) if slug else ""


def clock(rng: random.Random, low: int, high: int) -> str:
    hour = rng.randint(low, high)
    return f"{(hour - 1) % 12 + 1}:{rng.choice(('00', '30'))} {'a.m.' if hour < 12 else 'p.m.'}"


def date(rng: random.Random, year: int = 2025) -> str:
    return f"{rng.choice(MONTHS)} {rng.randint(1, 28)}, {year}"


def filler(rng: random.Random, n: int) -> list[str]:
    return rng.sample(FILLER, n)
