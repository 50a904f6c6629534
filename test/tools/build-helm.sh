#!/usr/bin/env bash
# Provides the Helm tools the chart tests run: helm and helm-docs.
#
#   test/tools/build-helm.sh          -> last line of stdout is the bin dir
#
# Both are compiled from the Go module proxy with `go install module@version`
# into ${RCG_TOOL_CACHE:-$HOME/.cache/remote-cluster-guard}/helm-<helm>_helm-docs-<helm-docs>/bin,
# so a version bump here builds a fresh directory and an old one is never reused.
# Cold build on the 2-core machine: ~2-10 min (helm, depending on load) + ~30 s (helm-docs); warm: ~0.1 s.
#
# Environment:
#   RCG_TOOL_CACHE   cache root (default: $HOME/.cache/remote-cluster-guard)
#   GO               go binary (default: `go` on PATH, else /usr/local/go/bin/go)
#
# Everything but the final bin dir line goes to stderr.
set -euo pipefail

# Helm 4: its uninstall deletes the two webhook configurations before anything else
# (pkg/release/v1/util/kind_sorter.go UninstallOrder), so an uninstall never leaves a
# failurePolicy Fail webhook without its Service; Helm 3.22 deletes them last.
HELM_VERSION=v4.3.1         # helm.sh/helm/v4
HELM_DOCS_VERSION=v1.14.2   # github.com/norwoodj/helm-docs

log() { printf '[helm/build] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

cache_root="${RCG_TOOL_CACHE:-${HOME:-/tmp}/.cache/remote-cluster-guard}"
dir="$cache_root/helm-${HELM_VERSION}_helm-docs-${HELM_DOCS_VERSION}"
bin="$dir/bin"
mkdir -p "$bin"

# Serialise concurrent callers on one lock per version pair.
if command -v flock >/dev/null 2>&1; then
  exec 9>"$dir/.lock"
  flock 9
fi

go="${GO:-}"
if [ -z "$go" ]; then
  if command -v go >/dev/null 2>&1; then go="$(command -v go)";
  elif [ -x /usr/local/go/bin/go ]; then go=/usr/local/go/bin/go;
  else die "no Go toolchain found (set GO=/path/to/go)"; fi
fi

install_tool() { # name module@version [ldflags]
  local name="$1" module="$2" ldflags="-s -w ${3:-}"
  if [ -x "$bin/$name" ]; then
    log "$name already built in $bin"
    return
  fi
  log "building $module with $("$go" version)"
  local tmp start
  tmp="$(mktemp -d "$dir/.build.XXXXXX")"
  start=$(date +%s)
  # GOFLAGS from the environment (e.g. -mod=vendor) must not leak in; run outside any module.
  (cd "$tmp" && GOFLAGS="-buildvcs=false -trimpath" CGO_ENABLED=0 GOBIN="$tmp" "$go" install -ldflags "$ldflags" "$module" >&2)
  mv -f "$tmp/$name" "$bin/$name"
  rm -rf "$tmp"
  log "built $name in $(( $(date +%s) - start ))s"
}

# The same version stamp as Helm's own Makefile, so `helm version` reports the release.
install_tool helm "helm.sh/helm/v4/cmd/helm@${HELM_VERSION}" "-X helm.sh/helm/v4/internal/version.version=${HELM_VERSION}"
install_tool helm-docs "github.com/norwoodj/helm-docs/cmd/helm-docs@${HELM_DOCS_VERSION}"

"$bin/helm" version --short >&2 || die "built helm does not run"
echo "$bin"
