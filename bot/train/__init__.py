"""Training the project's own models from the packaged all-MiniLM-L6-v2 weights: today the
reader (``reader.py``: data in ``data.py``, ONNX export in ``export.py``).

Takes real FAQ pages (``../shared/train/pages`` with their manifests) through the project's
own loaders; gives a model folder ``bot.answer.reader`` loads, with its model card. Needs
torch and transformers (installed with the project); never runs at serve time.

May import every stage (it reads pages with ``bot.ingest`` and checks its export with
``bot.answer.reader``); nothing imports it.
"""
