#!/usr/bin/env bash
# Cross-builds the module for the three IoT Edge platforms, and where a
# dockerd can run, assembles the scratch image from the amd64 binary
# (nothing is pulled: no registry is needed), starts it with the
# default manifest's createOptions, checks /metrics and --once from inside
# it, and reports the image size. Everything it starts or creates is
# removed on exit. Run as root from anywhere; it takes well under 3 min.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"

work=$(mktemp -d /tmp/ais-image.XXXXXX)
dockerd_pid=""
created=()
cleanup() {
  if [ -n "$dockerd_pid" ]; then
    "$docker" -H "$sock" rmi -f azureiotsecurity:ci >/dev/null 2>&1 || true
    kill "$dockerd_pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$dockerd_pid" 2>/dev/null || break; sleep 0.2; done
    # Container shims outlive dockerd by design; ours name our exec root.
    for _ in $(seq 1 25); do
      shims=$(grep -lsF "$work/" /proc/[0-9]*/cmdline | cut -d/ -f3 || true)
      [ -z "$shims" ] && break
      sleep 0.2
    done
    for pid in $shims; do kill "$pid" 2>/dev/null || true; done
  fi
  # dockerd leaves empty cgroup directories and runtime state behind.
  for d in "${created[@]}"; do
    [ -d "$d" ] || continue
    case $d in /sys/*) find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null || true ;; *) rm -rf "$d" ;; esac
  done
  # dockerd bind-mounts its network namespace file under the exec root.
  grep -F " $work/" /proc/self/mountinfo | awk '{print $5}' | sort -r | while read -r m; do umount "$m" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

version=$(git describe --tags --always --dirty 2>/dev/null || echo dev)
echo "=== cross-builds (version $version)"
declare -A goenv=([amd64]="GOARCH=amd64" [arm32v7]="GOARCH=arm GOARM=7" [arm64v8]="GOARCH=arm64")
for p in amd64 arm32v7 arm64v8; do
  mkdir -p "$work/$p"
  env CGO_ENABLED=0 GOOS=linux ${goenv[$p]} go build -trimpath \
    -ldflags "-s -w -X main.version=$version" -o "$work/$p/azureiotsecurity" ./module
  meta=$(go version -m "$work/$p/azureiotsecurity" | grep -E 'GOARCH|GOARM|CGO_ENABLED' | awk '{print $2}' | tr '\n' ' ')
  printf '%-8s %9d bytes  %s\n' "$p" "$(stat -c %s "$work/$p/azureiotsecurity")" "$meta"
done

echo "=== container image"
if [ "$(id -u)" != 0 ] || ! command -v dockerd >/dev/null; then
  echo "SKIP: the image test needs root and dockerd (apt-get install docker.io)"; exit 0
fi
# The docker CLI beside dockerd matches its API version.
docker="$(dirname "$(command -v dockerd)")/docker"
[ -x "$docker" ] || docker=$(command -v docker)
sock="unix://$work/docker.sock"
for d in /run/docker /run/containerd /sys/fs/cgroup/docker /sys/fs/cgroup/*/; do
  case $d in */) d="${d}docker" ;; esac
  [ -e "$d" ] || created+=("$d")
done
dockerd --data-root "$work/root" --exec-root "$work/exec" --pidfile "$work/dockerd.pid" \
  -H "$sock" --iptables=false --ip6tables=false --bridge=none >"$work/dockerd.log" 2>&1 &
dockerd_pid=$!
for _ in $(seq 1 150); do
  "$docker" -H "$sock" info >/dev/null 2>&1 && break
  kill -0 "$dockerd_pid" 2>/dev/null || break
  sleep 0.2
done
if ! "$docker" -H "$sock" info >/dev/null 2>&1; then
  echo "SKIP: dockerd could not start here; its log ends with:"; tail -5 "$work/dockerd.log"; exit 0
fi

ctx="$work/context"
mkdir -p "$ctx/state"
cp "$work/amd64/azureiotsecurity" "$ctx/"
if [ -r /etc/ssl/certs/ca-certificates.crt ]; then cp /etc/ssl/certs/ca-certificates.crt "$ctx/"; else : >"$ctx/ca-certificates.crt"; fi
DOCKER_BUILDKIT=0 "$docker" -H "$sock" build -q -f deployment/Dockerfile.prebuilt -t azureiotsecurity:ci "$ctx" >"$work/build.log" 2>&1 \
  || { cat "$work/build.log"; exit 1; }
size=$("$docker" -H "$sock" image inspect -f '{{.Size}}' azureiotsecurity:ci)
echo "image azureiotsecurity:ci (amd64, FROM scratch): $size bytes ($(( (size + 524287) / 1048576 )) MiB)"

AZUREIOTSECURITY_TEST_IMAGE=azureiotsecurity:ci AZUREIOTSECURITY_TEST_DOCKER="$docker" DOCKER_HOST="$sock" \
  go test -count=1 -run '^TestImage$' -v ./deployment 2>&1 | grep -vE '^=== (RUN|PAUSE|CONT)'
