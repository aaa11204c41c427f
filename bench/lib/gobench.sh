# Go benchmarks (items 4-6) and sizes (item 7). Sourced by bench/run.

benchstat_bin() {
  # benchstat is a Go module like any other: pinned, built into our work dir.
  local v=v0.0.0-20260908200009-22c9c6c9d4da
  [ -x "$bin/benchstat" ] || GOFLAGS= GOBIN="$bin" go install "golang.org/x/perf/cmd/benchstat@$v" >"$work/benchstat-install.log" 2>&1 || return 1
  echo "$bin/benchstat"
}

# gobench TITLE PKG ARGS...: runs go test -bench, keeps the raw output,
# shows benchstat's summary (or the raw lines when benchstat is missing).
gobench() {
  local name=$1 pkg=$2; shift 2
  local out="$work/bench-$name.txt"
  note "\`go test -run '^\$' $pkg $*\`"
  if ! go test -run '^$' "$pkg" "$@" >"$out" 2>&1; then
    skip "$name: go test failed: $(grep -m3 -E 'FAIL|panic|error' "$out" | tr '\n' ' ' | cut -c1-300)"
    return 0
  fi
  local bs
  if [ "${nostat:-0}" = 1 ]; then
    : # one sample: benchstat has nothing to summarise
  elif bs=$(benchstat_bin); then
    "$bs" "$out" | raw
  else
    skip "benchstat could not be installed (see go install golang.org/x/perf/cmd/benchstat); raw lines follow"
  fi
  note "Raw:"
  grep -E '^(Benchmark|goos|goarch|cpu|pkg)' "$out" | raw
}

pipeline_section() {
  section "4. Pipeline throughput (aggregate → encode → queue → pack → serialise → local sink)"
  gobench pipeline ./internal/pipeline/ -bench . -benchmem -count "$pipe_count" -benchtime "$pipe_benchtime" -cpu 1,2
  note "Target (issue 9): ≥ 200k events/s per core. Publishing through the embedded MQTT broker is not in this benchmark yet."
}

# has_bench PKGDIR: the package exists and declares at least one benchmark.
has_bench() { [ -d "$1" ] && grep -qs '^func Benchmark' "$1"/*_test.go; }

snapshot_section() {
  section "5. Snapshot scale"
  gobench listening ./internal/collect/listening/ -bench . -benchmem "${snap_args[@]}"
  gobench users ./internal/collect/users/ -bench . -benchmem "${snap_args[@]}"
  local d
  for d in internal/collect/firewall internal/collect/inventory internal/collect/packages; do
    if has_bench "$d"; then
      gobench "$(basename "$d")" "./$d/" -bench . -benchmem "${snap_args[@]}"
    else
      skip "$d: no Go benchmark there yet (issue 9 asks for firewall with 5,000 rules and inventory with 3,000 packages)"
    fi
  done
  note "Missing (issue 9): the 1× → 10× growth series; the benchmarks above measure the 10,000 case only."
}

cost_section() {
  section "6. IoT Hub cost over a synthetic day"
  if [ ! -d bench/hubcost ]; then skip "no synthetic-day benchmark yet (bench/hubcost)"; return 0; fi
  note "Default twin, a typical device's day (bench/hubcost/day.go: snapshots every 13 h, 2,880 process starts and ends over 20 command lines, 1,440 outbound connections to 10 endpoints, 6 logins), played through the real pipeline $hub_scale× faster, and through the retired C# agent's queueing and packing rules (bench/hubcost/baseline.go) over the same events."
  nostat=1 gobench hubcost ./bench/hubcost/ -bench . -benchtime 1x -count 1 -args -scale "$hub_scale"
  note "The pipeline checks aggregation windows once per real second, i.e. every $hub_scale simulated seconds here: windows close late and may merge, so events-sent/day of the module is a lower bound at high compression."
}

size_section() {
  section "7. Binary and image size"
  # --quick reuses the build cache CI already has (-trimpath would rebuild
  # every package for every platform); the full run builds as the images do.
  local flags=(-ldflags '-s -w') plats=(amd64 arm32v7)
  if [ "$mode" = full ]; then flags=(-trimpath -ldflags '-s -w') plats=(amd64 arm32v7 arm64v8 386); fi
  local shown="-ldflags '-s -w'"
  [ "$mode" = full ] && shown="-trimpath $shown"
  note "Static binaries: \`CGO_ENABLED=0 go build $shown ./module\`$([ "$mode" = quick ] && echo ' (without -trimpath in --quick: a few hundred bytes of paths more than the images)')."
  note ""
  note "| Platform | Bytes | MiB |"
  note "|---|---|---|"
  local p sz
  declare -A goenv=([amd64]="GOARCH=amd64" [arm32v7]="GOARCH=arm GOARM=7" [arm64v8]="GOARCH=arm64" [386]="GOARCH=386")
  for p in "${plats[@]}"; do
    if env CGO_ENABLED=0 GOOS=linux ${goenv[$p]} go build "${flags[@]}" -o "$work/size-$p" ./module 2>"$work/size-$p.err"; then
      sz=$(stat -c %s "$work/size-$p")
      note "| linux/$p | $sz | $(calc "$sz / 1048576" 2) |"
    else
      note "| linux/$p | build failed: $(head -1 "$work/size-$p.err") | |"
    fi
  done
  if [ "$mode" = quick ]; then
    note ""
    note "Image: not built in --quick (CI builds and smoke-tests it in \`.ci/image.sh\`); the full run reports it."
  elif [ "$(id -u)" = 0 ] && command -v dockerd >/dev/null; then
    note ""
    bash .ci/image.sh 2>&1 | grep -E '^(image|SKIP)' | raw || true
  else
    skip "image: needs root and dockerd"
  fi
}
