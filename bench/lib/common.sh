# Shared helpers of bench/run: results file, process bookkeeping, /proc
# readings, and the one cleanup trap. Sourced, never run.

# note appends a line to the results file and shows it.
note() { printf '%s\n' "$*" | tee -a "$results"; }
# raw appends text (from stdin) to the results file in a code block.
raw() { { echo '```'; cat; echo '```'; } | tee -a "$results"; }
skip() { note "SKIP: $*"; }
section() { printf '\n## %s\n\n' "$*" | tee -a "$results"; }
log() { printf '[bench %s] %s\n' "$(date -u +%T)" "$*" >&2; }

declare -A PIDS=()     # name → pid of every long-running process we started
declare -a STOP_ORDER=()

# start NAME CMD... runs CMD in the background, stdout to $work/NAME.out,
# stderr to $work/NAME.err, and remembers its pid for cleanup.
start() {
  local name=$1; shift
  ( exec "$@" ) >"$work/$name.out" 2>"$work/$name.err" &
  PIDS[$name]=$!
  STOP_ORDER+=("$name")
}

# stop NAME [SIGNAL] [SECONDS]: signal, wait bounded, then SIGKILL.
stop() {
  local name=$1 sig=${2:-TERM} secs=${3:-15} pid=${PIDS[$1]:-}
  [ -n "$pid" ] || return 0
  kill -"$sig" "$pid" 2>/dev/null || true
  local i
  for ((i = 0; i < secs * 10; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then
    log "$name did not stop on SIG$sig within ${secs}s; killing"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
  unset "PIDS[$name]"
}

alive() { [ -n "${PIDS[$1]:-}" ] && kill -0 "${PIDS[$1]}" 2>/dev/null; }

# /proc readings. ticks: utime+stime of every thread of pid (clock ticks).
ticks() { awk '{sub(/.*\) /, ""); print $12 + $13}' "/proc/$1/stat" 2>/dev/null || echo 0; }
# status_kb PID FIELD: a kB field of /proc/PID/status (VmRSS, VmHWM).
status_kb() { awk -v f="$2:" '$1 == f {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
# ctxsw: voluntary + involuntary context switches summed over live threads.
ctxsw() { cat /proc/"$1"/task/*/status 2>/dev/null | awk '/^(non)?voluntary_ctxt_switches:/ {s += $2} END {print s + 0}'; }
io_field() { awk -v f="$2:" '$1 == f {print $2}' "/proc/$1/io" 2>/dev/null || echo 0; }
# busy_ticks: all CPUs' non-idle ticks since boot, for the machine's load.
busy_ticks() { awk '$1 == "cpu" {print $2 + $3 + $4 + $7 + $8 + $9}' /proc/stat; }
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }
# calc EXPR: floating-point arithmetic through awk.
calc() { awk "BEGIN {printf \"%.${2:-2}f\", $1}"; }

# metric URL NAME: first sample of NAME (exact series text) from /metrics.
# Prints 0 when the series is absent, so the value can go into calc.
metric() {
  curl -s --max-time 5 "$1" 2>/dev/null | awk -v n="$2" '$1 == n {v = $2} END {print v == "" ? 0 : v}'
}
# wait_ready URL: /readyz answers 200 (bounded: 30 s).
wait_ready() {
  local i
  for ((i = 0; i < 300; i++)); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$1" 2>/dev/null)" = 200 ] && return 0
    sleep 0.1
  done
  return 1
}

# Kernel state we change, restored by cleanup.
audit_touched=0
audit_saved=""
bpf_stats_saved=""
audit_lock_fd=""

restore_audit() {
  [ "$audit_touched" = 1 ] || return 0
  auditctl -D -k azis-bench >/dev/null 2>&1 || true
  if [ -n "$audit_saved" ]; then
    read -r en bl rl fl <<<"$audit_saved"
    auditctl -b "$bl" >/dev/null 2>&1 || true
    auditctl -r "$rl" >/dev/null 2>&1 || true
    auditctl -f "$fl" >/dev/null 2>&1 || true
    auditctl -e "$en" >/dev/null 2>&1 || true
  fi
  audit_touched=0
}

cleanup() {
  local rc=$?
  local i
  for ((i = ${#STOP_ORDER[@]} - 1; i >= 0; i--)); do
    local n=${STOP_ORDER[$i]}
    [ -n "${PIDS[$n]:-}" ] && stop "$n" TERM 12
  done
  restore_audit
  if [ -n "$bpf_stats_saved" ]; then echo "$bpf_stats_saved" >/proc/sys/kernel/bpf_stats_enabled 2>/dev/null || true; fi
  if [ -n "$audit_lock_fd" ]; then flock -u "$audit_lock_fd" 2>/dev/null || true; fi
  if [ "${BENCH_KEEP:-0}" = 1 ]; then log "kept $work"; else rm -rf "$work"; fi
  exit "$rc"
}

# audit_lock takes the lock the Go tests take (internal/audit/audittest)
# so no test changes audit rules while the storm runs; bounded wait.
audit_lock() {
  local f="${TMPDIR:-/tmp}/azureiotsecurity-audit-test.lock"
  exec {audit_lock_fd}>>"$f" || return 1
  flock -w "${1:-600}" "$audit_lock_fd"
}
audit_unlock() {
  [ -n "$audit_lock_fd" ] || return 0
  flock -u "$audit_lock_fd" 2>/dev/null || true
  exec {audit_lock_fd}>&-
  audit_lock_fd=""
}

# apt_install PKG...: installs missing Debian packages; fails quietly.
apt_install() {
  local missing=() p
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null || return 1
  log "installing ${missing[*]}"
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"; } >"$work/apt.log" 2>&1
}
