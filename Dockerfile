# Herald's images, one per service, all from this file (docs/decisions/0015-container-images.md).
# Build from the repository root, naming the service:
#   docker build --build-arg SERVICE=allocation -t herald/allocation:0.1.0 .
# SERVICE is allocation, inserter, notifier, mailer, gateway or channels: the build stage installs
# that package, and the image is the service's own stage at the end of this file.
# Base images are pinned to an exact version.
ARG SERVICE

FROM python:3.11.14-slim-bookworm AS build
ARG SERVICE
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/opt/herald \
    PIP_DISABLE_PIP_VERSION_CHECK=1
# The same uv as the Makefile's UV_VERSION, from PyPI.
RUN pip install --no-cache-dir uv==0.13.8
WORKDIR /src
# Dependencies first, from the lockfile alone: this layer is reused until uv.lock or a
# project file changes, however often the code does. uv needs every workspace member's
# pyproject.toml to read the lock.
COPY pyproject.toml uv.lock ./
COPY libs/common/pyproject.toml libs/common/
COPY libs/web/pyproject.toml libs/web/
COPY services/allocation/pyproject.toml services/allocation/
COPY services/inserter/pyproject.toml services/inserter/
COPY services/notifier/pyproject.toml services/notifier/
COPY services/mailer/pyproject.toml services/mailer/
COPY services/gateway/pyproject.toml services/gateway/
COPY services/channels/pyproject.toml services/channels/
# herald-allocation comes along for its `herald` CLI (migrations, topics), so that any
# Herald image can run the migrations job.
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-install-workspace --package "herald-${SERVICE}" --package herald-allocation
COPY libs/common libs/common
COPY libs/web libs/web
COPY services/${SERVICE} services/${SERVICE}
COPY services/allocation services/allocation
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-editable --package "herald-${SERVICE}" --package herald-allocation

# The web console, for the gateway's image only (docs/decisions/0024): packages from the
# committed lockfile (npm ci) before the sources, then the production build (type check
# and Vite) into /web/dist.
FROM node:20.19.6-bookworm-slim AS web
ENV npm_config_update_notifier=false \
    npm_config_fund=false \
    npm_config_audit=false
WORKDIR /web
COPY web/package.json web/package-lock.json ./
RUN --mount=type=cache,target=/root/.npm \
    npm ci --loglevel=error
COPY web/index.html web/tsconfig.json web/vite.config.ts ./
COPY web/public public
COPY web/src src
RUN npm run build

# What every image runs: the installed service as uid 10001, in a writable working
# directory (the root filesystem may be read-only; faust writes its data directory there),
# probed on the URL its stage names.
FROM python:3.11.14-slim-bookworm AS runtime
RUN useradd --system --uid 10001 --user-group --no-create-home \
      --home-dir /nonexistent --shell /usr/sbin/nologin herald \
    && install -d -o herald -g herald /var/lib/herald
COPY --from=build /opt/herald /opt/herald
ENV PATH=/opt/herald/bin:$PATH \
    PYTHONUNBUFFERED=1
WORKDIR /var/lib/herald
USER 10001:10001
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen(os.environ['HEALTHCHECK_URL'], timeout=2)"]

# Each service's image: where it listens (on every interface), its probe and its command.

# The allocation API (FastAPI).
FROM runtime AS allocation
ENV HERALD_ALLOCATION_HOST=0.0.0.0 HERALD_ALLOCATION_PORT=8001 \
    HEALTHCHECK_URL=http://127.0.0.1:8001/healthz
EXPOSE 8001
CMD ["herald-allocation"]

# The inserter (faust-streaming worker); its web server answers the probes and metrics.
FROM runtime AS inserter
ENV HERALD_INSERTER_WEB_HOST=0.0.0.0 HERALD_INSERTER_WEB_PORT=6066 \
    HEALTHCHECK_URL=http://127.0.0.1:6066/healthz
EXPOSE 6066
CMD ["herald-inserter"]

# The notifier (SSE hub).
FROM runtime AS notifier
ENV HERALD_NOTIFIER_HOST=0.0.0.0 HERALD_NOTIFIER_PORT=8002 \
    HEALTHCHECK_URL=http://127.0.0.1:8002/healthz
EXPOSE 8002
CMD ["herald-notifier"]

# The mailer (manager summaries, in-app and by email; the preferences API).
FROM runtime AS mailer
ENV HERALD_MAILER_HOST=0.0.0.0 HERALD_MAILER_PORT=8003 \
    HEALTHCHECK_URL=http://127.0.0.1:8003/healthz
EXPOSE 8003
CMD ["herald-mailer"]

# The channels service (the Pusher protocol: WebSocket clients at /app/<key>).
FROM runtime AS channels
ENV HERALD_CHANNELS_HOST=0.0.0.0 HERALD_CHANNELS_PORT=6001 \
    HEALTHCHECK_URL=http://127.0.0.1:6001/healthz
EXPOSE 6001
CMD ["herald-channels"]

# The gateway, with the web console it serves: read-only for the service (owned by root,
# served by uid 10001).
FROM runtime AS gateway
COPY --from=web /web/dist /opt/herald-console
ENV HERALD_GATEWAY_HOST=0.0.0.0 HERALD_GATEWAY_PORT=8000 \
    HERALD_GATEWAY_STATIC_DIR=/opt/herald-console \
    HEALTHCHECK_URL=http://127.0.0.1:8000/healthz
EXPOSE 8000
CMD ["herald-gateway"]

# The image: the stage of the service SERVICE names (BuildKit builds only the stages it
# needs, so only the gateway's image builds the console).
FROM ${SERVICE}
