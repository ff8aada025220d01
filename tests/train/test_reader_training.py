"""The training code path, kept alive on hand-written pages: a few seeded steps, the ONNX
export the app loads, and the same losses for the same seed. (`make test` never retrains
the shipped model.)"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bot.answer.reader import Reader
from bot.index.embedding import model_dir
from bot.train.data import build_pairs, read_entries
from bot.train.export import export_onnx
from bot.train.reader import Recipe, evaluate, load_base, train

pytestmark = pytest.mark.integration


def test_a_few_seeded_steps_train_export_and_load(pages_dir: Path, tmp_path: Path) -> None:
    entries, _ = read_entries(pages_dir)
    pairs = build_pairs(entries, lambda i: None, seed=5)
    recipe = Recipe(seed=5, batch=4, limit_steps=3)
    runs = []
    for _ in range(2):
        tokenizer, model = load_base(model_dir(), recipe.seed)
        runs.append(train(model, tokenizer, pairs, recipe, progress=False))
    assert len(runs[0]) == 3 and np.allclose(runs[0], runs[1])  # seeded: the same steps

    path = export_onnx(model, tokenizer, tmp_path / "reader", quantize=True)
    reader = Reader(path.parent)
    scores = reader.rank("Where can students park?", [e.spans[0] for e in entries])
    assert scores.shape == (len(entries),) and ((scores > 0) & (scores < 1)).all()
    figures = evaluate(entries, reader.score, "all")
    assert figures.questions == len(entries) and 0.0 <= figures.top1 <= 1.0
