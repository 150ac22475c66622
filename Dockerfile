# The `sluice` binary in a small non-root image, with the renderers Applications use:
#   docker build -t ghcr.io/sluice-dev/sluice:0.1.0 .
# The plugin is not in the image: it runs on your machine (`cargo install --path plugin`).

ARG RUST_VERSION=1.95.0

FROM rust:${RUST_VERSION}-bookworm AS build
WORKDIR /src
# cmake and perl build the vendored libgit2; libssl-dev links Git over HTTPS.
RUN apt-get update && apt-get install -y --no-install-recommends cmake libssl-dev pkg-config \
    && rm -rf /var/lib/apt/lists/*
COPY . .
RUN cargo build --release --locked -p sluice --bin sluice \
    && strip target/release/sluice

# Kustomize sources render with `kustomize build` (kubectl is not needed in the image).
FROM registry.k8s.io/kustomize/kustomize:v5.5.0 AS kustomize
# Helm sources render with `helm template`.
FROM alpine/helm:3.16.2 AS helm

# glibc, libgcc and libssl3, no shell, uid 65532.
FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /src/target/release/sluice /usr/local/bin/sluice
COPY --from=kustomize /app/kustomize /usr/local/bin/kustomize
COPY --from=helm /usr/bin/helm /usr/local/bin/helm
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/sluice"]
CMD ["controller"]
