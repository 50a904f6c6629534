#!/usr/bin/env bash
# Provides the binaries the e2e tests run against: etcd, kube-apiserver, kubectl.
#
#   test/e2e/kube/build.sh            -> last line of stdout is the bin dir
#
# - etcd: Debian's etcd-server package (installed with apt-get only when no
#   `etcd` is on PATH), symlinked into the bin dir.
# - kube-apiserver + kubectl: compiled from the k8s.io/kubernetes version pinned
#   in ./go.mod (with its staging modules replaced by the published v0.Y.Z), into
#   ${RCG_KUBE_CACHE:-$HOME/.cache/remote-cluster-guard}/kube-<version>/bin/.
#   Skipped when both binaries are already there. Cold build on the 2-core
#   machine: ~4 min idle, ~8.5 min while other work loads the CPUs (module
#   download ~10-30 s of it; apt ~20 s); warm: ~0.1 s. Disk: ~0.56 GiB module
#   cache, ~2.3 GiB Go build cache, ~155 MiB bin dir.
#
# Environment:
#   RCG_KUBE_CACHE   cache root (default: $HOME/.cache/remote-cluster-guard)
#   RCG_KUBE_JOBS    go build -p (default: 2)
#   GO               go binary (default: `go` on PATH, else /usr/local/go/bin/go)
#
# Everything but the final bin dir line goes to stderr.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
log() { printf '[kube/build] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

version="$(awk '$1 == "require" && $2 == "k8s.io/kubernetes" { print $3 }' "$here/go.mod")"
[ -n "$version" ] || die "cannot find 'require k8s.io/kubernetes vX.Y.Z' in $here/go.mod"

cache_root="${RCG_KUBE_CACHE:-${HOME:-/tmp}/.cache/remote-cluster-guard}"
kube_dir="$cache_root/kube-$version"
bin="$kube_dir/bin"
mkdir -p "$bin"

# Serialise concurrent callers (parallel test workers) on one lock per version.
if command -v flock >/dev/null 2>&1; then
  exec 9>"$kube_dir/.lock"
  flock 9
fi

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@";
  elif command -v sudo >/dev/null 2>&1; then sudo -n "$@";
  else die "need root to run: $*"; fi
}

# ---- etcd -------------------------------------------------------------------
if ! command -v etcd >/dev/null 2>&1; then
  command -v apt-get >/dev/null 2>&1 || die "etcd not found and no apt-get to install it"
  log "installing etcd (Debian package etcd-server)"
  as_root apt-get update >&2
  # The package's service must not start and grab 127.0.0.1:2379: a policy-rc.d
  # that answers 101 keeps invoke-rc.d from starting it (containers have one).
  made_policy=
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    as_root sh -c 'printf "#!/bin/sh\nexit 101\n" > /usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d'
    made_policy=1
  fi
  rc=0
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends etcd-server >&2 || rc=$?
  [ -z "$made_policy" ] || as_root rm -f /usr/sbin/policy-rc.d
  [ "$rc" = 0 ] || die "apt-get install etcd-server failed ($rc)"
fi
etcd_path="$(command -v etcd)"
ln -sfn "$etcd_path" "$bin/etcd"

# ---- kube-apiserver + kubectl ------------------------------------------------
if [ -x "$bin/kube-apiserver" ] && [ -x "$bin/kubectl" ]; then
  log "kube-apiserver and kubectl $version already built in $bin"
else
  go="${GO:-}"
  if [ -z "$go" ]; then
    if command -v go >/dev/null 2>&1; then go="$(command -v go)";
    elif [ -x /usr/local/go/bin/go ]; then go=/usr/local/go/bin/go;
    else die "no Go toolchain found (set GO=/path/to/go)"; fi
  fi
  jobs="${RCG_KUBE_JOBS:-2}"
  log "building kube-apiserver and kubectl $version with $("$go" version) (-p $jobs); a cold build takes ~4-9 min"
  # Same version stamping as hack/lib/version.sh, so `kubectl version` and the
  # apiserver's /version report the real release instead of v0.0.0-master.
  minor="${version#v*.}"; minor="${minor%%.*}"
  ldflags="-s -w"
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldflags+=" -X $pkg.gitVersion=$version -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
    ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
  done
  tmp="$(mktemp -d "$kube_dir/.build.XXXXXX")"
  trap 'rm -rf "$tmp"' EXIT
  start=$(date +%s)
  (
    cd "$here"
    # GOFLAGS from the environment (e.g. -mod=vendor) must not leak in.
    GOFLAGS=-buildvcs=false CGO_ENABLED=0 GOMAXPROCS="$jobs" "$go" build -p "$jobs" -trimpath \
      -tags selinux,notest -ldflags "$ldflags" -o "$tmp/" \
      k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kubectl >&2
  )
  mv -f "$tmp/kube-apiserver" "$bin/kube-apiserver"
  mv -f "$tmp/kubectl" "$bin/kubectl"
  log "built in $(( $(date +%s) - start ))s"
fi

"$bin/kubectl" version --client >&2 || die "built kubectl does not run"
echo "$bin"
