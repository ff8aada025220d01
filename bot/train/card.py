"""The reader's model card: ``card.json`` (read by the reader: its threshold) and a
``README.md`` a person reads."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def write_card(out: Path, card: dict[str, Any]) -> None:
    (out / "card.json").write_text(json.dumps(card, indent=2) + "\n", encoding="utf-8")
    data, recipe = card["data"], card["recipe"]
    rows = "\n".join(
        f"| {group} | {f['questions']} | {f['top1']:.3f} | {f['auc']:.3f} |"
        for group, f in card["held_out"].items()
    )
    (out / "README.md").write_text(
        f"""# faqbot reader

A cross-encoder that reads a question with one candidate quote (a sentence, list item or
table row of a retrieved passage) and gives the probability that the candidate answers
the question. Initialised from {card["base"]}, with a one-logit classification head.

## Data
{data["pages"]} real FAQ pages (`../shared/train/pages`, manifests sha256
`{data["manifests_sha256"]}`) read by the project's own loaders: {data["entries"]} FAQ
entries. Institutions are split, not entries: {data["train_entries"]} entries train
({data["train_pairs"]} pairs), {data["held_out_entries"]} entries of
{data["held_out_institutions"]} institutions the model never saw are held out.
Pairs per entry: its answer's opening span (positive); its own question quoted back, up to
{recipe["same_page_negatives"]} other entries' answers on the same page and the answer of the
nearest entry of another institution (negatives); sometimes a later sentence of its own
answer (soft label 0.25). Questions are typed as students type them a share of the time
(lower case, a typo, terse).

## Recipe
Seed {recipe["seed"]}, {recipe["epochs"]} epochs, batch {recipe["batch"]}, AdamW lr
{recipe["lr"]} with {recipe["warmup"]:.0%} warm-up then linear decay, at most
{recipe["max_tokens"]} tokens a pair, BCE on soft labels; final loss {recipe["final_loss"]};
{card["train_seconds"]} s on this 2-core CPU. `python -m bot.train` rebuilds it.

## Held-out figures ({"int8" if card["int8"] else "fp32"} ONNX)
top-1: the answer's opening span ranked first among the entry's own question and the other
entries' answers on its page. AUC: the answer's score against the best score the page gets
without that entry (leave one out: the near-topic question the page does not answer).

| group | questions | top-1 | AUC |
|---|---|---|---|
{rows}

Threshold {card["threshold"]} (balanced accuracy {card["threshold_balanced_accuracy"]} on
every held-out group together). Size {card["size_mb"]} MB.

## Limits
English FAQ pages only; trained on answers that open with what was asked, so an answer
whose key fact comes late scores lower; not a fact checker.
""",
        encoding="utf-8",
    )
