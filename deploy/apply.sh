#!/usr/bin/env bash
# `make deploy`: kubectl apply -k deploy with another image, through kustomize's
# own `images:` in a throwaway overlay (deploy/ itself is not edited). It makes
# no certificate: the webhook keeps its CA in the Secret
# remote-cluster-guard-certs, which deploy/ does not contain, so re-running
# this keeps the CA and the caBundle the webhook wrote.
#
# Usage: deploy/apply.sh IMAGE [kubectl apply flags, e.g. --dry-run=server]
# IMAGE: name[:tag][@sha256:digest]; a registry port (host:5000/name) is not a
# tag, and a name alone means name:latest, as for docker.
set -euo pipefail
image=${1:?usage: deploy/apply.sh IMAGE [kubectl apply flags...]}
shift
if [[ ! $image =~ ^[A-Za-z0-9._/:@-]+$ ]]; then
  echo "deploy/apply.sh: not an image reference: '$image'" >&2
  exit 2
fi
name=$image tag='' digest=''
if [[ $name == *@* ]]; then digest=${name#*@} name=${name%%@*}; fi
if [[ ${name##*/} == *:* ]]; then tag=${name##*:} name=${name%:*}; fi
# As docker reads it: no tag and no digest is `latest` (kustomize would keep the base's tag).
if [[ -z $tag && -z $digest ]]; then tag=latest; fi

deploy=$(cd "$(dirname "$0")" && pwd)
overlay=$(mktemp -d)
trap 'rm -rf "$overlay"' EXIT
{
  echo 'apiVersion: kustomize.config.k8s.io/v1beta1'
  echo 'kind: Kustomization'
  # kustomize refuses an absolute path as a resource.
  echo "resources: ['$(realpath --relative-to="$overlay" "$deploy")']"
  echo 'images:'
  echo '  - name: remote-cluster-guard'
  echo "    newName: '$name'"
  if [[ -n $tag ]]; then echo "    newTag: '$tag'"; fi
  if [[ -n $digest ]]; then echo "    digest: '$digest'"; fi
} >"$overlay/kustomization.yaml"
kubectl apply -k "$overlay" "$@"
