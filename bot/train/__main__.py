"""``python -m bot.train``: train the reader, print its held-out figures, write the model
folder and its model card."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from bot.answer.reader import SHIPPED
from bot.errors import FaqBotError
from bot.train.card import write_card
from bot.train.reader import Recipe, run

ROOT = Path(__file__).resolve().parents[2]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Train the reader (a cross-encoder).")
    parser.add_argument("--pages", type=Path, default=ROOT.parent / "shared" / "train" / "pages")
    parser.add_argument("--out", type=Path, default=SHIPPED, help="the model folder to write")
    parser.add_argument("--epochs", type=int, default=Recipe.epochs)
    parser.add_argument("--seed", type=int, default=Recipe.seed)
    parser.add_argument("--limit-steps", type=int, default=0, help="stop early (a smoke run)")
    args = parser.parse_args(argv)
    recipe = Recipe(seed=args.seed, epochs=args.epochs, limit_steps=args.limit_steps)
    try:
        from bot.index.embedding import MiniLMEmbeddings

        embeddings = MiniLMEmbeddings()
        card = run(args.pages, args.out, recipe, embeddings.embed_documents)
    except FaqBotError as exc:
        print(f"training failed: {exc}", file=sys.stderr)
        return 1
    write_card(args.out, card)
    print(json.dumps({k: card[k] for k in ("held_out", "threshold", "int8", "size_mb")}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
