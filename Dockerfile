# Multi-stage build of the cbss binary; the runtime image holds only the binary.
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
# `--build-arg FEATURES=otlp` adds the OTLP span export (CBSS_OTLP_ENDPOINT).
ARG FEATURES=""
RUN cargo build --release --locked --bin cbss --features "$FEATURES"

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates && rm -rf /var/lib/apt/lists/* \
    && useradd --system --home /var/lib/cbss --create-home cbss
COPY --from=build /src/target/release/cbss /usr/local/bin/cbss
USER cbss
WORKDIR /var/lib/cbss
ENV CBSS_BIND=0.0.0.0:8080
EXPOSE 8080
# `serve` migrates the database on start.
CMD ["cbss", "serve"]
