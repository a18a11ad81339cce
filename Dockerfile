# kuber-api: the Docker Engine API on Kubernetes (sidecar), the per-job namespace operator, and
# kube-sim, in one image with one entrypoint: `kuber-api serve|operator|sim`.
# Build:  docker build -t kuber-api .
# Run:    as a GitLab Kubernetes-executor service (README "GitLab setup"); the operator with
#         deploy/overlays/operator (kubectl apply -k).
# The base is pinned to an exact release and its digest (the multi-arch index of that tag, as
# `docker buildx imagetools inspect node:20.19.5-bookworm-slim` shows it). Refresh both together.
ARG NODE_IMAGE=node:20.19.5-bookworm-slim@sha256:9e70124bd00f47dd023e349cd587132ae61892acc0e47ed641416c3e18f401c3

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY src ./src
COPY test ./test
COPY bench ./bench
COPY build ./build
# tsc, then the server bundled (build/bundle.mjs: client-node's KubeConfig without its ~700
# generated API modules; ~62 instead of ~127 MiB idle, a third of the startup CPU).
RUN npm run build

# Production dependencies only, installed apart from the build's dev tools (the bundle loads the
# optional native helpers msgpackr-extract and bufferutil from here: prebuilt binaries in their
# npm packages; without them the JavaScript fallbacks run).
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

FROM ${NODE_IMAGE}
ARG VERSION=0.1.0
LABEL org.opencontainers.image.title="kuber-api" \
      org.opencontainers.image.description="The Docker Engine API on Kubernetes: a CI sidecar, its per-job namespace operator, and kube-sim" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.source="https://github.com/kuber-api/kuber-api" \
      org.opencontainers.image.base.name="docker.io/library/node:20.19.5-bookworm-slim"
# docker cp bodies compressed with bzip2, xz or zstd are decompressed by these programs
# (src/engine/archive/tar/compress.ts); gzip is in-process.
RUN apt-get update \
 && apt-get install -y --no-install-recommends bzip2 xz-utils zstd \
 && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist/src ./dist/src
COPY --from=build /app/dist/bundle ./dist/bundle
COPY package.json README.md ./
# Non-root: kuber-api and the operator need no privilege, only their ServiceAccounts (deploy/).
USER 1000:1000
EXPOSE 2375 8080
ENTRYPOINT ["node", "/app/dist/bundle/cli.js"]
CMD ["serve", "-H", "tcp://127.0.0.1:2375", "-H", "unix:///tmp/kuber-api.sock"]
