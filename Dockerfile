# syntax=docker/dockerfile:1
#
# dogwatch: CloudWatch → DogStatsD sidecar for a Datadog Agent.
#
#   docker build -t dogwatch:0.1.0 --build-arg VERSION=0.1.0 --build-arg REVISION=$(git rev-parse HEAD) .
#   docker run --init --read-only --stop-timeout 30 \
#     -v dsd-socket:/var/run/datadog -v "$PWD/conf.d:/etc/dogwatch/conf.d:ro" -v dogwatch-state:/var/lib/dogwatch \
#     dogwatch:0.1.0
#
# Layout inside the image (the runtime finds its data files from package.json, see core/package-root.ts):
#   /opt/dogwatch/package.json, package-lock.json
#   /opt/dogwatch/node_modules/            production dependencies, unix-dgram compiled for this platform
#   /opt/dogwatch/dist/app/main.js         the entry point: the composition root, which binds core and checks
#   /opt/dogwatch/dist/{app,core,checks}/  compiled JavaScript (no tests, no benchmarks, no emulator, so
#                                          `dogwatch demo` asks for the source checkout)
#   /opt/dogwatch/checks/<check>/metadata.csv   metric contracts, read at start-up
#   /etc/dogwatch/conf.d/                  mount point for <check>.d/conf.yaml (DOGWATCH_CONFD)
#   /var/lib/dogwatch/                     watermarks (DOGWATCH_STATE_DIR), the only path dogwatch writes
#
# Signals: dogwatch handles SIGTERM/SIGINT (finish runs, flush, exit) and SIGHUP (reload conf.d) itself, so it
# can run as PID 1. Run with `docker run --init` (compose: `init: true`) anyway when a secret_backend_command
# is configured, so that any orphaned grandchildren of that command are reaped. Give it more than the default
# 10 s to stop: in-flight runs get `shutdown_deadline` (20 s by default) before dogwatch exits.

ARG NODE_VERSION=24

# ---- build: compile TypeScript (JavaScript output is platform-independent, so build on the build host) ----
FROM --platform=$BUILDPLATFORM node:${NODE_VERSION}-bookworm AS build
WORKDIR /src
COPY package.json package-lock.json ./
# Full install (dev dependencies: typescript). package.json `allowScripts` approves unix-dgram's install script.
RUN --mount=type=cache,target=/root/.npm npm ci --no-audit --no-fund
COPY . .
RUN npm run build
# Stage exactly what the runtime needs. checks/*/metadata.csv is copied file by file with its folders kept
# (a wildcard COPY would flatten every metadata.csv into one file).
RUN mkdir -p /out/dist \
    && cp -R dist/app dist/core dist/checks /out/dist/ \
    && cp package.json package-lock.json /out/ \
    && for f in checks/*/metadata.csv; do install -D -m 0644 "$f" "/out/$f"; done \
    && test -f /out/dist/app/main.js \
    && ls /out/checks/*/metadata.csv

# ---- prod-deps: production node_modules, native addon built for the target platform ----
FROM node:${NODE_VERSION}-bookworm AS prod-deps
WORKDIR /out
COPY package.json package-lock.json ./
# node:*-bookworm ships python3, make and g++ for node-gyp. unix-dgram is an *optional* dependency of
# hot-shots: npm carries on silently when its build fails, and DogStatsD over UDS would then fail at run time.
# So prove the addon loads here, where a failure stops the build.
RUN --mount=type=cache,target=/root/.npm npm ci --omit=dev --no-audit --no-fund \
    && test -f node_modules/unix-dgram/build/Release/unix_dgram.node \
    && node -e "require('unix-dgram')" \
    && rm -rf node_modules/unix-dgram/build/Release/obj.target

# ---- runtime ----
FROM node:${NODE_VERSION}-bookworm-slim AS runtime
ARG NODE_VERSION
ARG VERSION=0.1.0
ARG REVISION=unknown
LABEL org.opencontainers.image.title="dogwatch" \
      org.opencontainers.image.description="Collects AWS CloudWatch metrics (Lambda, API Gateway, Rekognition) and sends them to a local Datadog Agent over DogStatsD" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.base.name="docker.io/library/node:${NODE_VERSION}-bookworm-slim"

# A fixed, numeric non-root uid/gid (10001) so Kubernetes `runAsNonRoot` can verify it and volume ownership is
# predictable. Only the state directory is writable (by uid 10001 and group 10001, so a container run as another
# uid with `--group-add 10001` can use it too); everything else stays root-owned and read-only.
RUN groupadd --gid 10001 dogwatch \
    && useradd --no-log-init --uid 10001 --gid dogwatch --create-home --home-dir /home/dogwatch \
       --shell /usr/sbin/nologin dogwatch \
    && chmod 0755 /home/dogwatch \
    && mkdir -p /etc/dogwatch/conf.d /var/lib/dogwatch \
    && chown 10001:10001 /var/lib/dogwatch \
    && chmod 0770 /var/lib/dogwatch

WORKDIR /opt/dogwatch
COPY --from=prod-deps /out/node_modules ./node_modules
COPY --from=build /out/ ./

# DD_DOGSTATSD_URL wins over DD_AGENT_HOST/DD_DOGSTATSD_PORT. To send over UDP instead of the Agent's socket,
# set DD_DOGSTATSD_URL=udp://<host>:8125, or set it to an empty string and use DD_AGENT_HOST.
# The HEALTHCHECK runs `dogwatch health`, which reads DOGWATCH_STATUS_ADDR like the daemon does.
ENV NODE_ENV=production \
    DOGWATCH_CONFD=/etc/dogwatch/conf.d \
    DOGWATCH_STATE_DIR=/var/lib/dogwatch \
    DOGWATCH_LOG_FORMAT=json \
    DOGWATCH_STATUS_ADDR=127.0.0.1:5005 \
    DD_DOGSTATSD_URL=unix:///var/run/datadog/dsd.socket

VOLUME ["/var/lib/dogwatch"]
USER 10001:10001

# /health is 200 once configuration is loaded, 503 while stopping (no curl needed: the CLI probes it).
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["node", "/opt/dogwatch/dist/app/main.js", "health"]

ENTRYPOINT ["node", "/opt/dogwatch/dist/app/main.js"]
CMD ["run"]
