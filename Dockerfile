# Trackhouse in a container: `docker compose up -d` (compose.yaml), or
#   docker build -t trackhouse . && docker run -p 8080:8080 -v trackhouse-data:/data trackhouse
# The build stage runs the same release build as `make release` (scripts/swift-release.sh),
# so the image holds the binary `make test` tests; the runtime stage needs no Swift.

FROM swift:6.3-bookworm AS build
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends libzstd-dev zlib1g-dev pkg-config \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
# The commit `trackhouse --version` prints (the build context usually has no .git).
ARG TRACKHOUSE_COMMIT=unknown
RUN TRACKHOUSE_COMMIT="$TRACKHOUSE_COMMIT" scripts/swift-release.sh build \
 && install -D -m 0755 "$(scripts/swift-release.sh bin-path)/trackhouse" /out/trackhouse

FROM debian:bookworm-slim
# The binary links only the C library, libstdc++ and libgcc_s dynamically (README.md,
# "Install"); curl is for the health check.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends libstdc++6 ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 trackhouse \
 && useradd --system --uid 10001 --gid 10001 --home-dir /data --shell /usr/sbin/nologin trackhouse \
 && mkdir -p /data && chown trackhouse:trackhouse /data
COPY --from=build /out/trackhouse /usr/local/bin/trackhouse
USER 10001:10001
WORKDIR /data
VOLUME ["/data"]
# Inside a container the server must listen on every interface to be reachable.
ENV TRACKHOUSE_DATA=/data \
    TRACKHOUSE_HOST=0.0.0.0 \
    TRACKHOUSE_PORT=8080
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["/bin/sh", "-c", "curl -fsS \"http://127.0.0.1:${TRACKHOUSE_PORT}/healthz\" >/dev/null || exit 1"]
# SIGTERM (docker stop) closes and seals every raw file; give it time (compose: stop_grace_period).
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/trackhouse"]
CMD ["serve"]
