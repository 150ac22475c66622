#!/usr/bin/env bash
# Runs every check of the project on a fresh machine: installs what is missing, then formatting,
# lints, the CRD drift check and the whole test suite. CI runs exactly this (see .ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '\n==> %s\n' "$*"; }

# Debian packages the tests start or call. Installed only when missing; needs root (CI and the
# developers' machines are root).
# libssl-dev, pkg-config: git2 builds libgit2 and libssh2 against the system OpenSSL (https, ssh).
# openssh-server: the sshd the SSH repository test starts on 127.0.0.1 (never the packaged service).
# prometheus: the real server the metrics tests start on 127.0.0.1 (they never use the packaged service).
DEB_PACKAGES=(git ca-certificates prometheus libssl-dev pkg-config openssh-server)
missing=()
for pkg in "${DEB_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
if ((${#missing[@]})); then
  log "installing ${missing[*]}"
  # A package must not start its service while installed here: prometheus would listen on every
  # interface. policy-rc.d answering 101 forbids it, for this install only.
  guard=""
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && guard=1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
  [[ -n "$guard" ]] && rm -f /usr/sbin/policy-rc.d
fi
# helm-python-sdk: Helm v4's engine, which tests/helm/helm (a `helm template` stand-in) renders
# with, since no helm binary can be installed here.
if ! python3 -c "import helm_python, yaml" >/dev/null 2>&1; then
  log "installing helm-python-sdk"
  python3 -m pip install -q --root-user-action=ignore helm-python-sdk pyyaml
fi
# kubectl is used by the tests that check real-client compatibility. It ships with the machine image;
# install it from the configured apt sources if a machine lacks it.
if ! command -v kubectl >/dev/null 2>&1; then
  log "installing kubectl"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq kubectl
fi

log "cargo fmt --check"
cargo fmt --all --check

log "cargo clippy (warnings are errors)"
cargo clippy --workspace --all-targets --locked -- -D warnings

log "CRD drift: sluice crds must print crds/crds.yaml"
cargo build --locked -q -p sluice
if ! ./target/debug/sluice crds | diff -u crds/crds.yaml - >/dev/null; then
  ./target/debug/sluice crds | diff -u crds/crds.yaml - | head -40 || true
  echo "crds/crds.yaml is out of date; run: SLUICE_BLESS=1 cargo test -p crds --test crd_yaml" >&2
  exit 1
fi

export CARGO_INCREMENTAL=0  # a clean build gains nothing from incremental data, and it is most of target/
log "cargo test --workspace"
cargo test --workspace --locked
