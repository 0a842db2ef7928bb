# Generation worker image (procedural backend, CPU). The MusicGen/GPU variant builds on a CUDA
# PyTorch base; see docs/ when that backend lands.
FROM python:3.11-slim-bookworm AS build
WORKDIR /src
COPY python-worker/pyproject.toml python-worker/README.md ./
COPY python-worker/src ./src
RUN python -m venv /venv && /venv/bin/pip install --no-cache-dir .

FROM python:3.11-slim-bookworm
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
