# syntax=docker/dockerfile:1
#
# reconciler: the GitOps daemon for Amazon ECS on Fargate, as a container image.
#
#   docker build -t reconciler:0.1.0 .
#   docker run --read-only -p 8080:8080 -v "$PWD/desired-state:/desired-state:ro" \
#     -e AWS_REGION=ap-northeast-1 reconciler:0.1.0              # follows a mounted directory
#   docker run --read-only -p 8080:8080 -e RECONCILER_GIT_URL=https://github.com/acme/ecs-estate.git \
#     -e RECONCILER_GIT_REF=main -e RECONCILER_GIT_PATH=prod reconciler:0.1.0   # follows a Git repository
#
# Every option of `reconciler run` is also an environment variable RECONCILER_<OPTION> (docs/commands.md),
# which is how an ECS task definition configures it: RECONCILER_GIT_URL (when set, the DIR argument of CMD is
# ignored), RECONCILER_GIT_REF, RECONCILER_GIT_PATH, RECONCILER_INSTANCE, RECONCILER_MODE,
# RECONCILER_ALLOWED_CLUSTERS, RECONCILER_GIT_TOKEN (inject it from Secrets Manager with `secrets`, never as a
# plain `environment` value), RECONCILER_GIT_SSH_KEY_FILE / RECONCILER_GIT_KNOWN_HOSTS_FILE (git over ssh),
# RECONCILER_WEBHOOK_SECRET_FILE.
# AWS credentials come from the task role through the SDK's usual chain; nothing AWS-specific is baked in.
#
# Read-only root filesystem (`readonlyRootFilesystem: true` in the task definition): the process writes only to
# /var/cache/reconciler (Git mirror and checkouts, temporary files, HOME for ssh's known_hosts). On Fargate, give
# the task a bind-mount volume (`"volumes": [{"name": "cache"}]`) and mount it at exactly /var/cache/reconciler:
# because the path matches the VOLUME below, ECS copies the directory's owner (UID 10001) and mode onto it.
#
# ECS ignores the image's HEALTHCHECK: copy its command into the container definition's `healthCheck`
# (`"command": ["CMD", "python", "-c", "..."]`). Give the container a `stopTimeout` of at least 10 s: on SIGTERM
# the daemon lets a pass in flight finish for up to 5 s, then exits 0.

# ---- builder: the project and its dependencies, installed into a self-contained virtualenv -----------------
FROM python:3.11.17-slim-bookworm AS builder

# The venv first on PATH, so that the smoke test below runs the installed `reconciler`.
ENV PATH=/opt/reconciler/bin:$PATH \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_ROOT_USER_ACTION=ignore

# Everything comes from the lock (requirements/, written by `make lock`): each package at one version, checked
# against its hashes, so that a rebuild next month installs the same bits. Every package ships binary wheels for
# CPython 3.11 on amd64 and arm64: no compiler is needed, even here.
# /opt/build holds the locked pip and setuptools; it stays in this stage. The image's venv gets no pip at all:
# /opt/build's pip installs into it (--python).
WORKDIR /src
COPY requirements/build.txt requirements/runtime.txt ./requirements/
RUN python -m venv /opt/build \
 && /opt/build/bin/python -m pip install --no-cache-dir --require-hashes --no-deps -r requirements/build.txt \
 && python -m venv --without-pip /opt/reconciler \
 && /opt/build/bin/python -m pip --python /opt/reconciler/bin/python install --no-cache-dir --require-hashes \
      --no-deps -r requirements/runtime.txt

# The build needs only the metadata (pyproject.toml names README.md as the readme) and the package itself.
COPY pyproject.toml README.md ./
COPY reconciler ./reconciler
# A wheel built with the locked setuptools, then a regular (not editable) install: the venv holds its own copy,
# with bytecode compiled now rather than at run time (the root filesystem is read-only there). `pip check`: the
# lock held every dependency the project declares.
RUN /opt/build/bin/python -m pip wheel --no-cache-dir --no-deps --no-build-isolation --wheel-dir /tmp/dist . \
 && /opt/build/bin/python -m pip --python /opt/reconciler/bin/python install --no-cache-dir --no-deps \
      /tmp/dist/reconciler-*.whl \
 && /opt/build/bin/python -m pip --python /opt/reconciler/bin/python check \
 && reconciler --help > /dev/null

# ---- runtime: Python, git, ssh, tini; no compiler, no pip cache, no build tree ------------------------------
FROM python:3.11.17-slim-bookworm AS runtime

ARG VERSION=0.1.0
ARG REVISION=""
ARG CREATED=""
LABEL org.opencontainers.image.title="reconciler" \
      org.opencontainers.image.description="GitOps for Amazon ECS on Fargate: reconcile a Git-synced desired-state directory against live AWS." \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.base.name="docker.io/library/python:3.11.17-slim-bookworm"

# Debian bookworm's versions, pinned so that a rebuild installs the same bits (hadolint DL3008). When Debian
# publishes a security update the old version leaves the archive and this step fails: bump the pins then
# (`apt-cache policy git tini ca-certificates openssh-client` in a bookworm container shows the new ones).
# git: the Git source (--git-url); openssh-client: git over ssh (--git-ssh-key-file); tini: PID 1, which
# forwards SIGTERM to the daemon and reaps the git/ssh processes it starts.
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      ca-certificates=20250419~deb12u2 \
      git=1:2.39.5-0+deb12u3 \
      openssh-client=1:9.2p1-2+deb12u10 \
      tini=0.19.0-1+b3 \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --gid 10001 reconciler \
 && useradd --uid 10001 --gid 10001 --home-dir /var/cache/reconciler --no-create-home --no-log-init \
      --shell /usr/sbin/nologin reconciler \
 && install -d -o 10001 -g 10001 -m 0700 /var/cache/reconciler

COPY --from=builder /opt/reconciler /opt/reconciler

# The one writable place (everything else may be read-only): HOME and TMPDIR are the cache volume itself, so it
# works even when mounted empty (a tmpfs, an emptyDir); the Git cache is created inside it on first use.
# PYTHONDONTWRITEBYTECODE: never try to write .pyc files next to the (read-only) sources.
ENV PATH=/opt/reconciler/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HOME=/var/cache/reconciler \
    TMPDIR=/var/cache/reconciler \
    RECONCILER_GIT_CACHE_DIR=/var/cache/reconciler/git \
    RECONCILER_LISTEN=0.0.0.0:8080 \
    RECONCILER_LOG_FORMAT=json
VOLUME ["/var/cache/reconciler"]

USER 10001:10001
EXPOSE 8080

# No curl in a slim image: Python's urllib, on the port of RECONCILER_LISTEN. Exits non-zero unless /healthz
# answers 200 (urlopen raises on any other status, on a refused connection, and on a timeout).
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["python", "-c", "import os, urllib.request as u; h, _, p = os.environ.get('RECONCILER_LISTEN', ':8080').rpartition(':'); h = h if h not in ('', '0.0.0.0', '::') else '127.0.0.1'; u.urlopen(f'http://{h}:{p}/healthz', timeout=4)"]

# The daemon exits 0 after SIGTERM (what `docker stop` and ECS send); tini passes it on.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/bin/tini", "--", "reconciler"]
# Follows the directory mounted at /desired-state; with RECONCILER_GIT_URL set it follows that repository instead.
CMD ["run", "/desired-state"]
