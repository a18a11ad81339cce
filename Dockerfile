# kuber-api: the Docker Engine API on Kubernetes, as a CI sidecar.
# Build:  docker build -t kuber-api .
# Run:    as a GitLab Kubernetes-executor service (see README.md "GitLab setup"); it listens on
#         tcp://127.0.0.1:2375 inside the job pod's shared network namespace.
ARG NODE_IMAGE=node:24-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY src ./src
COPY test ./test
COPY bench ./bench
COPY build ./build
RUN npm run build && npm prune --omit=dev

FROM ${NODE_IMAGE}
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
# The server bundled (build/bundle.mjs): ~62 instead of ~127 MiB idle, a third of the startup CPU.
# node_modules stays for the optional native helpers the bundle loads from there (msgpackr-extract,
# bufferutil: prebuilt binaries in their npm packages; without them the JavaScript fallbacks run).
COPY --from=build /app/dist/bundle ./dist/bundle
COPY package.json README.md ./
# Non-root: kuber-api needs no privilege, only a ServiceAccount with the Role in deploy/rbac.yaml.
USER 1000:1000
EXPOSE 2375
ENTRYPOINT ["node", "dist/bundle/cli.js"]
CMD ["-H", "tcp://127.0.0.1:2375", "-H", "unix:///tmp/kuber-api.sock"]
