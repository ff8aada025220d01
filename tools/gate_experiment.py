"""The learned gate experiment (issue #24, "the next best thing"): can a logistic model over
what retrieval already computes decide better than the answer rules whether the pages
answer a question? README "The reader" reports its figures; this reproduces them.

    python -m tools.gate_experiment data [MAX_INSTITUTIONS]  # ~20-40 min: train-page rows
    python -m tools.gate_experiment suites                    # ~3 min: every suite half
    python -m tools.gate_experiment fit [base|reader|small|small_r] [THRESHOLD ...]

``data`` rebuilds, per institution of ../shared/train/pages (every other one, and every
held-out one, skipping the institutions the eval suites come from), a corpus of 65% of its FAQ
answers (answers only: no question heading to copy) and asks every entry's question typed as a
student would: the kept ones are answerable, the held-back ones near-topic and unanswerable.
``fit`` trains on non-held-out institutions, picks the threshold on held-out ones (balanced
accuracy) and simulates the gate on the suites: "and" (rules, then the gate) and "replace"
(the gate in place of the weak-evidence rule). Nothing it fits ships.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

from bot.answer.chain import FaqChain, clean_history
from bot.answer.extractive import ExtractiveAnswerer
from bot.answer.reader import REREAD, Reader, reader_question
from bot.config import Profile, Settings
from bot.index.embedding import MiniLMEmbeddings
from bot.index.sentences import readable
from bot.ingest.pipeline import ingest
from bot.train.data import held_out, read_entries, typed
from bot.types import Retrieval
from evals.metrics import Outcome
from evals.suites import HALVES, _chain, load_manifest, prepare

# --- data ---


PAGES = Path("../shared/train/pages")
OUT = Path(".faqbot/gate")
EXCLUDE = ("carnegie mellon", "cornell", "linn-benton", "cedar ridge")
MAX_ENTRIES = 20


def retrieval_features(r: Retrieval, reader: Reader, question: str) -> dict[str, Any]:
    """What the gate may read of one retrieval: the best candidates' scores and the
    reader's probabilities for them (read against ``question``), and the question's
    unknown words, names and kinds."""
    heads = r.sentences[:REREAD]
    texts = [readable(x.span.text, x.chunk) for x in heads]
    probs = reader.rank(question, texts).tolist() if heads else []
    return {
        "scores": [x.score for x in heads],
        "dense": [x.dense for x in heads],
        "probs": probs,
        "unknown_meaning": r.unknown_meaning,
        "tokens": len(r.question.tokens),
        "unknown": len(r.question.unknown),
        "unknown_names": len(r.question.unknown_names),
        "kinds": list(r.question.kinds),
        "hit_scores": [h.score for h in r.hits],
    }


def _out(name: str, mode: str):
    OUT.mkdir(parents=True, exist_ok=True)
    return open(OUT / name, mode, encoding="utf-8")


def keep(question: str) -> bool:
    return int(hashlib.sha256(question.encode()).hexdigest(), 16) % 100 < 65


def data_main(limit: int) -> None:
    entries, _ = read_entries(PAGES)
    by_inst: dict[str, list] = defaultdict(list)
    for e in entries:
        if any(x in e.institution.lower() for x in EXCLUDE):
            continue
        by_inst[e.institution].append(e)
    insts = sorted(i for i, es in by_inst.items() if len(es) >= 6)
    insts = [i for n, i in enumerate(insts) if n % 2 == 0 or held_out(i)][:limit]
    print(len(insts), "institutions", file=sys.stderr)
    emb = MiniLMEmbeddings()
    reader = Reader()
    rng = random.Random(5)
    out = _out("rows.jsonl", "a")
    started = time.time()
    for n, inst in enumerate(insts):
        es = by_inst[inst][:MAX_ENTRIES]
        kept = [e for e in es if keep(e.question)]
        dropped = [e for e in es if not keep(e.question)]
        if len(kept) < 3 or not dropped:
            continue
        with tempfile.TemporaryDirectory() as tmp:
            home = Path(tmp)
            corpus = home / "corpus"
            corpus.mkdir()
            pages: dict[str, list] = defaultdict(list)
            for e in kept:
                pages[e.page].append(e)
            for i, (page, pes) in enumerate(pages.items()):
                body = "\n\n".join(
                    " ".join(e.spans) for e in pes
                )  # answers only: no heading to copy
                (corpus / f"page{i}.md").write_text(f"# {Path(page).stem}\n\n{body}\n")
            settings = Settings().with_(
                corpus_dir=corpus,
                index_dir=home / "index",
                data_dir=home / "data",
                chroma_url="",
                profile=Profile.load({}, corpus),
                reader="off",
            )
            ingest(settings, emb)
            chain = FaqChain(settings, emb)
            for e, label in [(e, 1) for e in kept] + [(e, 0) for e in dropped]:
                q = typed(e.question, rng)
                r = chain.retrieve(q)
                heads = r.sentences[:1]
                assert chain.answerer is not None and chain.calibration is not None
                ans = chain.answerer.answer(q, r)
                row = {
                    "inst": inst,
                    "group": e.group,
                    "held": held_out(inst),
                    "label": label,
                    "q": q,
                    **retrieval_features(r, reader, q),
                    "top_is_own": bool(heads)
                    and any(
                        readable(heads[0].span.text, heads[0].chunk).strip() in s
                        or s in readable(heads[0].span.text, heads[0].chunk)
                        for s in e.spans
                    ),
                    "top_chunk_question": heads[0].chunk.question if heads else "",
                    "rules_abstain": ans.abstained,
                    "min_evidence": chain.calibration.min_evidence,
                }
                out.write(json.dumps(row) + "\n")
            out.flush()
        print(f"{n + 1}/{len(insts)} {inst[:40]} {time.time() - started:.0f}s", file=sys.stderr)


# --- suites ---


ROOT = Path(".")


def suites_main() -> None:
    manifest = load_manifest(ROOT / "evals/suites.toml")
    emb = MiniLMEmbeddings()
    reader = Reader()
    settings = Settings.from_env().with_(reader="off")
    out = _out("suites.jsonl", "w")
    from evals.runner import EVAL_INDEXES

    for suite in manifest.suites:
        p = prepare(suite, ROOT)
        chain = _chain(suite, settings, emb, ROOT, EVAL_INDEXES)
        floor = chain.calibration.min_evidence
        open_answerer = ExtractiveAnswerer(-10.0, chain.answerer.not_covered)
        for half in HALVES:
            for case in p.cases[half]:
                answer = chain.ask(case.question, case.history)
                turns = clean_history(case.history, 10, 2000)
                r = chain.retrieve(case.question, turns)
                opened = open_answerer.answer(case.question, r)

                def flags(a, case=case) -> dict:
                    o = Outcome(case, a.text, a.abstained, [c.quote for c in a.citations], [], 0)
                    return {"abst": a.abstained, "facts": o.facts_ok, "cit": o.citation_ok}

                row = {
                    "suite": suite.name,
                    "half": half,
                    "id": case.id,
                    "answerable": case.answerable,
                    "rules": flags(answer),
                    "open": flags(opened),
                    **retrieval_features(r, reader, reader_question(r.question)),
                    "min_evidence": floor,
                }
                out.write(json.dumps(row) + "\n")
        out.flush()
        print("done", suite.name, flush=True)


# --- fit ---


SETS = {
    "base": [
        "best",
        "dense",
        "margin",
        "over_floor",
        "lexical",
        "unknown_meaning",
        "unknown_share",
        "names",
        "hit1",
    ],
}
SETS["reader"] = SETS["base"] + ["reader", "reader_top"]
SETS["small"] = ["over_floor", "dense", "unknown_meaning", "margin"]
SETS["small_r"] = SETS["small"] + ["reader"]


def feats(r: dict) -> dict[str, float]:
    s = r["scores"] or [0.0]
    d = r["dense"] or [0.0]
    p = r["probs"] or [0.0]
    tok = r["tokens"] + r["unknown"]
    return {
        "best": s[0],
        "dense": d[0],
        "margin": s[0] - (s[1] if len(s) > 1 else 0.0),
        "over_floor": s[0] - r["min_evidence"],
        "lexical": s[0] - 0.65 * d[0],
        "unknown_meaning": r["unknown_meaning"],
        "unknown_share": r["unknown"] / tok if tok else 1.0,
        "names": float(r["unknown_names"] > 0),
        "hit1": (r["hit_scores"] or [0.0])[0],
        "reader": max(p),
        "reader_top": p[0],
    }


def X(rows, names):
    return np.array([[feats(r)[n] for n in names] for r in rows])


def simulate(rows, probs, t, mode):
    by: dict = defaultdict(lambda: defaultdict(list))
    for r, p in zip(rows, probs, strict=True):
        no = p < t
        if mode == "rules":
            a, f, c = r["rules"]["abst"], r["rules"]["facts"], r["rules"]["cit"]
        elif mode == "and":
            a = r["rules"]["abst"] or no
            f, c = r["rules"]["facts"] and not no, r["rules"]["cit"] and not no
        else:  # replace the weak-evidence rule
            a = r["open"]["abst"] or no
            f, c = r["open"]["facts"] and not no, r["open"]["cit"] and not no
        key = (r["suite"], r["half"])
        if r["answerable"]:
            by[key]["fact"].append(f)
            by[key]["cit"].append(c)
            by[key]["false"].append(a)
        else:
            by[key]["abst"].append(a)
    return {k: {m: sum(v) / len(v) for m, v in d.items()} for k, d in by.items()}


def fit_main(which: str, thresholds: list[float]) -> None:
    rows = [json.loads(x) for x in (OUT / "rows.jsonl").open()]
    suites = [json.loads(x) for x in (OUT / "suites.jsonl").open()]
    train = [r for r in rows if not r["held"]]
    held = [r for r in rows if r["held"]]
    print(len(train), "train", len(held), "held", sum(r["label"] for r in rows), "positives")
    names = SETS[which]
    model = LogisticRegression(C=1.0, max_iter=1000)
    mu, sd = X(train, names).mean(0), X(train, names).std(0) + 1e-9
    model.fit((X(train, names) - mu) / sd, [r["label"] for r in train])
    ph = model.predict_proba((X(held, names) - mu) / sd)[:, 1]
    yh = np.array([r["label"] for r in held])
    print(which, "held AUC", round(roc_auc_score(yh, ph), 3))
    rules = np.array([not r["rules_abstain"] for r in held])
    print(
        "rules on held: answer-rate pos",
        rules[yh == 1].mean().round(3),
        "neg",
        rules[yh == 0].mean().round(3),
    )
    # threshold: balanced accuracy on held institutions
    best = max(
        np.linspace(0.05, 0.95, 91),
        key=lambda t: (ph >= t)[yh == 1].mean() + (ph < t)[yh == 0].mean(),
    )
    print(
        "threshold",
        round(best, 2),
        "pos kept",
        (ph >= best)[yh == 1].mean().round(3),
        "neg refused",
        (ph < best)[yh == 0].mean().round(3),
    )
    for n, c in zip(names, model.coef_[0], strict=True):
        print(f"  {n:16s} {c:+.3f}")
    ps = model.predict_proba((X(suites, names) - mu) / sd)[:, 1]
    ts = thresholds or [best]
    base = simulate(suites, ps, 0, "rules")
    for t in ts:
        for mode in ("and", "replace"):
            sim = simulate(suites, ps, t, mode)
            print(f"-- t={t:.2f} {mode}")
            for k in sorted(sim):
                b, s = base[k], sim[k]
                print(
                    f"  {k[0]:10s} {k[1]:5s} "
                    + " ".join(
                        f"{m} {b.get(m, 0):.2f}->{s.get(m, 0):.2f}"
                        for m in ("fact", "cit", "abst", "false")
                    )
                )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("step", choices=("data", "suites", "fit"))
    parser.add_argument("args", nargs="*")
    args = parser.parse_args()
    if args.step == "data":
        data_main(int(args.args[0]) if args.args else 1000)
    elif args.step == "suites":
        suites_main()
    else:
        fit_main(args.args[0] if args.args else "base", [float(a) for a in args.args[1:]])


if __name__ == "__main__":
    main()
