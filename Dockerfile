# syntax=docker/dockerfile:1.7
# The FAQ assistant, CPU only. The build stage installs the project with torch (CPU build) to
# export the embedding model to ONNX once; the runtime stage serves from that export and
# carries neither torch nor sentence-transformers (~900 MB less). One image runs every role
# of compose.yaml: the app (default command), the ingest job and the Chroma server.
#   docker build -t faqbot .

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# ---------------------------------------------------------------------------------- build
FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PATH=/opt/venv/bin:$PATH \
    XDG_CACHE_HOME=/opt/faqbot/cache
RUN python -m venv /opt/venv
WORKDIR /src
# torch first, from the CPU index, so that pip never pulls the CUDA build (~5 GB).
RUN pip install "torch==2.13.0" --index-url https://download.pytorch.org/whl/cpu
COPY pyproject.toml README.md requirements.lock ./
COPY bot ./bot
# The tested versions (requirements.lock) wherever the lock names a package.
RUN pip install --constraint requirements.lock ".[postgres]"
# The ONNX export's cache key includes the weights' mtime in nanoseconds, and image layers
# keep whole seconds: pin it to a whole second so the runtime stage finds the export.
RUN touch -m -d "2000-01-01T00:00:00Z" \
        "$(python -c 'from bot.index.embedding import model_dir; print(model_dir())')/model.safetensors" \
 && python -c "from bot.index.embedding import MiniLMEmbeddings as M; M(backend='onnx').embed_query('warm up')" \
 && test -n "$(find /opt/faqbot/cache/faqbot/onnx -name model.onnx)"
# Serving reads the export with ONNX Runtime and the model's tokenizer.json: what only the
# export (or the torch fallback) needs goes.
RUN pip uninstall -y torch sentence-transformers transformers onnx

# -------------------------------------------------------------------------------- runtime
FROM ${PYTHON_IMAGE} AS runtime
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    XDG_CACHE_HOME=/opt/faqbot/cache \
    MPLCONFIGDIR=/tmp/matplotlib \
    GRADIO_ANALYTICS_ENABLED=False \
    ANONYMIZED_TELEMETRY=False \
    HF_HUB_OFFLINE=1 \
    FAQBOT_HOST=0.0.0.0 \
    FAQBOT_PORT=7860 \
    FAQBOT_CORPUS_DIR=/srv/faqbot/corpus \
    FAQBOT_DATA_DIR=/srv/faqbot/data \
    FAQBOT_INDEX_DIR=/srv/faqbot/data/index
# A fixed uid, so volumes and bind mounts can be given to it; the folders are its own so
# that named volumes mounted there start out writable.
RUN groupadd --system --gid 10001 faqbot \
 && useradd --system --uid 10001 --gid faqbot --create-home --home-dir /home/faqbot faqbot \
 && mkdir -p /srv/faqbot/corpus /srv/faqbot/data /srv/faqbot/chroma \
 && chown -R faqbot:faqbot /srv/faqbot
COPY --from=build /opt/venv /opt/venv
COPY --from=build /opt/faqbot/cache /opt/faqbot/cache
WORKDIR /app
COPY app.py deploy/healthcheck.py ./
USER faqbot
# Fail the build, not the first start, if serving would need torch or a new export.
RUN python -c "import importlib.util as u; assert u.find_spec('torch') is None, 'torch is in the image'" \
 && python -c "from bot.index.embedding import MiniLMEmbeddings as M; M(backend='onnx').embed_query('ready?')"
EXPOSE 7860
HEALTHCHECK --interval=15s --timeout=10s --start-period=120s --retries=3 \
    CMD ["python", "/app/healthcheck.py"]
CMD ["python", "app.py"]
