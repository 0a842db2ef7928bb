# Generation worker images.
#   docker build -f infra/worker.Dockerfile .                      procedural backend, CPU (default)
#   docker build -f infra/worker.Dockerfile --target musicgen .    + MusicGen (torch, transformers)
#   docker build -f infra/worker.Dockerfile --target audiocraft .  + MusicGen through AudioCraft 1.3.0
#                                on torch 2.1.0 (its pin), python-worker/requirements-audiocraft.txt
# PyPI's torch wheels carry their CUDA libraries; the host needs only the NVIDIA driver and the
# container toolkit (`docker run --gpus all`). Weights are not baked in: mount a Hugging Face cache
# (HF_HOME) or a model folder and point MUSICGEN_MODEL at it (docs/MUSICGEN.md).
FROM python:3.11-slim-bookworm AS build
WORKDIR /src
COPY python-worker/pyproject.toml python-worker/README.md ./
COPY python-worker/src ./src
RUN python -m venv /venv && /venv/bin/pip install --no-cache-dir .

FROM build AS build-musicgen
RUN /venv/bin/pip install --no-cache-dir '.[musicgen]'

# AudioCraft 1.3.0 pins torch 2.1.0, numpy<2, xformers<0.0.23: its own venv, from the same lock
# file as python-worker/.venv-audiocraft (every package pinned, installed --no-deps, so pip never
# backtracks on AudioCraft's pins). PyPI's torch 2.1.0 is the CUDA 12.1 build. The worker goes in
# after, its own dependencies checked against the same pins.
FROM python:3.11-slim-bookworm AS build-audiocraft
WORKDIR /src
COPY python-worker/requirements-audiocraft.txt ./
RUN python -m venv /venv \
    && /venv/bin/pip install --no-cache-dir --no-deps -r requirements-audiocraft.txt
COPY python-worker/pyproject.toml python-worker/README.md ./
COPY python-worker/src ./src
RUN /venv/bin/pip install --no-cache-dir -c requirements-audiocraft.txt . \
    && /venv/bin/python -c "import audiocraft.models, lofi_worker.cli"

FROM python:3.11-slim-bookworm AS procedural
RUN apt-get update && apt-get install -y --no-install-recommends libsndfile1 tini \
    && rm -rf /var/lib/apt/lists/* && useradd --create-home --uid 10001 worker
COPY --from=build /venv /venv
# The worker validates jobs against the one contract file shared with the TypeScript side.
COPY packages/contracts/schema /app/packages/contracts/schema
RUN mkdir -p /data && chown worker /data
USER worker
ENV PATH=/venv/bin:$PATH DATA_DIR=/data CONTRACT_SCHEMA=/app/packages/contracts/schema/segment.schema.json
ENTRYPOINT ["/usr/bin/tini", "--", "lofi-worker"]
CMD ["run"]

FROM procedural AS musicgen
COPY --from=build-musicgen /venv /venv
# Offline by design: weights come from the mounted cache or folder, never from the network.
ENV HF_HUB_OFFLINE=1 HF_HOME=/models/hf MUSICGEN_MODEL=facebook/musicgen-small \
    WORKER_BACKENDS=musicgen,procedural

# Not FROM musicgen: COPY merges into an existing /venv, and the musicgen venv's torch 2.x /
# numpy 2 files would stay beside AudioCraft's older ones. The same runtime, a clean venv.
FROM python:3.11-slim-bookworm AS audiocraft
RUN apt-get update && apt-get install -y --no-install-recommends libsndfile1 tini \
    && rm -rf /var/lib/apt/lists/* && useradd --create-home --uid 10001 worker
COPY --from=build-audiocraft /venv /venv
COPY packages/contracts/schema /app/packages/contracts/schema
RUN mkdir -p /data && chown worker /data
USER worker
ENV PATH=/venv/bin:$PATH DATA_DIR=/data CONTRACT_SCHEMA=/app/packages/contracts/schema/segment.schema.json \
    HF_HUB_OFFLINE=1 HF_HOME=/models/hf MUSICGEN_MODEL=facebook/musicgen-small \
    WORKER_BACKENDS=musicgen,procedural MUSICGEN_ENGINE=audiocraft
ENTRYPOINT ["/usr/bin/tini", "--", "lofi-worker"]
CMD ["run"]

# The last stage is what a plain `docker build` makes: the procedural (CPU) worker.
FROM procedural
