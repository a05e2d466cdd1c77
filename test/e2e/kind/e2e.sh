#!/usr/bin/env bash
# make e2e: every scenario on a local kind cluster with a pinned Istio, with JUnit and JSON artifacts.
# Creates the kind cluster if absent and deletes it afterwards if this run created it (KEEP_CLUSTER=1 keeps
# it); installs Istio with istioctl when on PATH, else with Helm, unless istiod is already there.
# Runs under bash 3.2 (macOS's /bin/bash) as well as 5.x.
set -euo pipefail

CLUSTER="${KIND_CLUSTER:-meshprobe-e2e}"
ISTIO_VERSION="${ISTIO_VERSION:-1.24.2}"
# The node image of kind v0.27.0, by digest as its release notes ask (kubernetes-sigs/kind v0.27.0
# pkg/apis/config/defaults/image.go): kind v0.27 or later.
KIND_NODE_IMAGE="${KIND_NODE_IMAGE:-kindest/node:v1.32.2@sha256:f226345927d7e348497136874b6d207e0b32cc52154ad8323129352923a3142f}"
ARTIFACTS="${ARTIFACTS:-out/e2e}"
KEEP_CLUSTER="${KEEP_CLUSTER:-0}"
MESHPROBE="${MESHPROBE:-node dist/cli/main.js}"
ISTIO_HELM_REPO="${ISTIO_HELM_REPO:-https://istio-release.storage.googleapis.com/charts}"
EXTRA=()

usage() {
  cat <<USAGE
usage: $0 [--cluster NAME] [--istio-version X.Y.Z] [--artifacts DIR] [--keep-cluster] [-- meshprobe run flags]
  env: KIND_CLUSTER ($CLUSTER) ISTIO_VERSION ($ISTIO_VERSION) KIND_NODE_IMAGE ($KIND_NODE_IMAGE)
       ARTIFACTS ($ARTIFACTS) KEEP_CLUSTER=1 (keep a cluster this run created)
USAGE
}

die() { echo "e2e: $*" >&2; exit "${2:-1}"; }
log() { echo "e2e: $*" >&2; }

while [ $# -gt 0 ]; do
  case "$1" in
    --cluster) [ $# -ge 2 ] || die "--cluster needs a name" 2; CLUSTER="$2"; shift 2 ;;
    --istio-version) [ $# -ge 2 ] || die "--istio-version needs a version" 2; ISTIO_VERSION="$2"; shift 2 ;;
    --artifacts) [ $# -ge 2 ] || die "--artifacts needs a directory" 2; ARTIFACTS="$2"; shift 2 ;;
    --keep-cluster) KEEP_CLUSTER=1; shift ;;
    -h|--help) usage; exit 0 ;;
    --) shift; EXTRA=("$@"); break ;;
    *) usage >&2; die "unknown argument: $1" 2 ;;
  esac
done
[[ "$CLUSTER" =~ ^[a-z0-9]([-a-z0-9]*[a-z0-9])?$ ]] || die "cluster name must be lower-case letters, digits and '-': $CLUSTER" 2
[[ "$ISTIO_VERSION" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || die "Istio version must be X.Y.Z: $ISTIO_VERSION" 2

for tool in docker kind kubectl; do
  command -v "$tool" >/dev/null || die "$tool is not on PATH (make e2e needs Docker, kind and kubectl; make demo needs none of them)"
done
docker info >/dev/null 2>&1 || die "the Docker engine is not running (docker info failed); start it, or use make demo"

# The client's version. `--short` prints "client version: X" since Istio 1.23 and a bare "X" before
# (istio/istio pkg/version/cobra.go); the JSON form has been {"clientVersion": {"version": "X", ...}} all
# along. Parsed with bash alone: a fresh machine has no jq.
istioctl_version() {
  local json re='"clientVersion": *[{][^}]*"version": *"([^"]*)"'
  json=$(istioctl version --remote=false -o json 2>/dev/null) || return 0
  json=${json//$'\n'/ }
  if [[ $json =~ $re ]]; then printf '%s' "${BASH_REMATCH[1]}"; fi
}

CONTEXT="kind-$CLUSTER"
CREATED=0
# shellcheck disable=SC2317 # run by the EXIT trap
cleanup() {
  local rc=$?
  if [ "$CREATED" = 1 ] && [ "$KEEP_CLUSTER" != 1 ]; then
    log "deleting kind cluster $CLUSTER (KEEP_CLUSTER=1 keeps it)"
    kind delete cluster --name "$CLUSTER" >&2 || true
  fi
  exit "$rc"
}
trap cleanup EXIT

if kind get clusters 2>/dev/null | grep -qx "$CLUSTER"; then
  log "reusing kind cluster $CLUSTER"
else
  log "creating kind cluster $CLUSTER ($KIND_NODE_IMAGE)"
  CREATED=1
  kind create cluster --name "$CLUSTER" --image "$KIND_NODE_IMAGE" --wait 180s >&2
fi

if kubectl --context "$CONTEXT" -n istio-system get deployment istiod >/dev/null 2>&1; then
  log "Istio already installed in $CONTEXT"
elif command -v istioctl >/dev/null; then
  have=$(istioctl_version)
  [ "$have" = "$ISTIO_VERSION" ] || die "istioctl on PATH is ${have:-of unknown version (istioctl version --remote=false -o json failed)}, not $ISTIO_VERSION: put istioctl $ISTIO_VERSION first on PATH, or remove it to install with Helm"
  log "installing Istio $ISTIO_VERSION with istioctl (minimal profile)"
  istioctl --context "$CONTEXT" install --set profile=minimal -y >&2
else
  command -v helm >/dev/null || die "neither istioctl nor helm is on PATH: install one to let make e2e install Istio $ISTIO_VERSION"
  log "installing Istio $ISTIO_VERSION with Helm"
  helm repo add istio "$ISTIO_HELM_REPO" --force-update >&2
  helm upgrade --install istio-base istio/base --version "$ISTIO_VERSION" --kube-context "$CONTEXT" -n istio-system --create-namespace --wait >&2
  helm upgrade --install istiod istio/istiod --version "$ISTIO_VERSION" --kube-context "$CONTEXT" -n istio-system --wait >&2
fi
kubectl --context "$CONTEXT" -n istio-system rollout status deployment/istiod --timeout=300s >&2

mkdir -p "$ARTIFACTS"
log "running meshprobe against $CONTEXT; artifacts in $ARTIFACTS"
set +e
# shellcheck disable=SC2086 # MESHPROBE is a command line ("node dist/cli/main.js")
# ${EXTRA[@]+...}: bash before 4.4 (macOS's /bin/bash is 3.2) calls an empty array unbound under set -u.
$MESHPROBE --context "$CONTEXT" run --allow-cluster-wide --report-dir "$ARTIFACTS" ${EXTRA[@]+"${EXTRA[@]}"}
rc=$?
set -e
log "meshprobe exited $rc"
exit "$rc"
