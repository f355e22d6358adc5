# Airbyte source connector for the Botmaker API, as a small static image.
#
#   docker build -t airbyte/source-botmaker:0.2.0 .
#   docker run --rm airbyte/source-botmaker:0.2.0 spec
#   docker run --rm -v "$PWD/secrets:/secrets" airbyte/source-botmaker:0.2.0 \
#       read --config /secrets/config.json --catalog /secrets/catalog.json
#
# Offline tests build only the `runtime` stage: they replace the `builder` stage with a directory
# holding `out/source-botmaker` and `out/ca-certificates.crt` (`--build-context builder=DIR`) and
# the base image with a local busybox (see acceptance-tests/build-image.sh). Keep the paths under
# /out and the stage names in sync with that script.

# ---- builder: a fully static (musl) binary ---------------------------------------------------
FROM rust:1.95-slim-bookworm AS builder
RUN apt-get update \
 && apt-get install -y --no-install-recommends musl-tools \
 && rm -rf /var/lib/apt/lists/* \
 && rustup target add x86_64-unknown-linux-musl
ENV CC_x86_64_unknown_linux_musl=musl-gcc
WORKDIR /src
# The workspace has two members (the connector and the API mock used by its tests); cargo needs
# both manifests, and only the connector is built.
COPY Cargo.toml Cargo.lock rustfmt.toml ./
COPY mock ./mock
COPY src ./src
RUN cargo build --release --locked -p source-botmaker --target x86_64-unknown-linux-musl \
 && mkdir -p /out \
 && cp target/x86_64-unknown-linux-musl/release/source-botmaker /out/source-botmaker \
 && cp /etc/ssl/certs/ca-certificates.crt /out/ca-certificates.crt

# ---- runtime: busybox provides the /bin/sh the Airbyte platform launches connectors with -----
FROM busybox:1.36-musl AS runtime
# User `airbyte` (uid/gid 1000) owns /airbyte, where the platform mounts config and catalog files.
# Written directly rather than with adduser, which not every busybox build has.
RUN echo 'airbyte:x:1000:1000:airbyte:/airbyte:/bin/sh' >> /etc/passwd \
 && echo 'airbyte:x:1000:' >> /etc/group \
 && mkdir -p /airbyte/bin /etc/ssl/certs \
 && chown -R 1000:1000 /airbyte
# The binary trusts the Mozilla roots built into it. The CA bundle is there for users who need to
# add a corporate CA: mount a PEM bundle and set SSL_CERT_FILE to it (both are then trusted).
COPY --from=builder /out/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=builder /out/source-botmaker /airbyte/bin/source-botmaker
# Numeric, so Kubernetes' runAsNonRoot can verify it; it is the `airbyte` user created above.
USER 1000:1000
WORKDIR /airbyte
ENV AIRBYTE_ENTRYPOINT="/airbyte/bin/source-botmaker"
ENTRYPOINT ["/airbyte/bin/source-botmaker"]
LABEL io.airbyte.name="airbyte/source-botmaker" \
      io.airbyte.version="0.2.0" \
      org.opencontainers.image.title="source-botmaker" \
      org.opencontainers.image.description="Airbyte source connector for the Botmaker API v2.0" \
      org.opencontainers.image.licenses="MIT"
