"""The trained reader as ONNX (int8 by dynamic quantisation, or fp32), with its tokenizer,
in the folder ``bot.answer.reader.Reader`` loads."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

OPSET = 17


def export_onnx(model: Any, tokenizer: Any, out: Path, quantize: bool = True) -> Path:
    import torch

    from bot.index.embedding import model_dir

    out.mkdir(parents=True, exist_ok=True)
    shutil.copy(model_dir() / "tokenizer.json", out / "tokenizer.json")
    sample = tokenizer(["a question?"], ["a candidate answer."], return_tensors="pt")
    names = ["input_ids", "attention_mask", "token_type_ids"]
    fp32 = out / "model.fp32.onnx"
    axes = {n: {0: "batch", 1: "tokens"} for n in names}
    model.eval()
    with torch.no_grad():
        torch.onnx.export(
            model, tuple(sample[n] for n in names), str(fp32), input_names=names,
            output_names=["logits"], dynamic_axes={**axes, "logits": {0: "batch"}},
            opset_version=OPSET, dynamo=False,
        )  # fmt: skip
    target = out / "model.onnx"
    if quantize:
        from onnxruntime.quantization import QuantType, quantize_dynamic

        quantize_dynamic(str(fp32), str(target), weight_type=QuantType.QInt8)
        fp32.unlink()
    else:
        fp32.replace(target)
    if not (out / "card.json").exists():  # the scorer below reads the threshold from it
        (out / "card.json").write_text(json.dumps({"threshold": 0.5}), encoding="utf-8")
    return target


def onnx_scorer(path: Path) -> Any:
    from bot.answer.reader import Reader

    reader = Reader(path.parent)
    return reader.score
