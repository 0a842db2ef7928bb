# Scheduler and streamer image. TypeScript runs through tsx (no separate build output to drift
# from the sources); ffmpeg comes from Debian for the streamer's encoders.
FROM node:24-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
COPY packages/contracts/package.json packages/contracts/
COPY packages/config/package.json packages/config/
COPY packages/audio/package.json packages/audio/
COPY packages/redis/package.json packages/redis/
COPY packages/store/package.json packages/store/
COPY services/scheduler/package.json services/scheduler/
COPY services/streamer/package.json services/streamer/
RUN npm ci --omit=dev --no-audit --no-fund

FROM node:24-bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ffmpeg tini \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json tsconfig.base.json ./
COPY packages ./packages
COPY services ./services
RUN mkdir -p /data && chown node:node /data
USER node
ENV NODE_ENV=production DATA_DIR=/data HOST=0.0.0.0
ENTRYPOINT ["/usr/bin/tini", "--", "node", "--import", "tsx"]
CMD ["services/streamer/src/main.ts"]
