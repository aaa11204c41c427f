# Exec storm (issue 9, item 1): one generator, every observer running side
# by side on the same storm, rate after rate. Sourced by bench/run.

# Observers: the module once per process backend, auditd, forkstat, and a
# 100 ms /proc poller. Each is started once and measured per rate window.
storm_backends=(ebpf proc-connector audit procfs)

# module_config BACKEND: local desired properties; aggregation is off so
# every exec is its own event carrying its command line (markers are
# unique, so aggregation would not merge them anyway, only delay them).
module_config() {
  local rules=false
  [ "$1" = audit ] && rules=true
  cat <<JSON
{"ms_iotn:urn_azureiot_Security_SecurityAgentConfiguration": {
   "aggregationEnabledProcessCreate": {"value": false},
   "aggregationEnabledProcessTerminate": {"value": false}},
 "azureiotsecurityModule": {"processBackend": "$1", "processAuditRules": $rules}}
JSON
}

# wait_backend NAME WANT: waits (bounded) for the module's log line naming
# the backend it started; prints the backend, or nothing.
wait_backend() {
  local i got
  for ((i = 0; i < 300; i++)); do
    got=$(grep -oE 'process events backend started"? backend=[a-z-]+' "$work/$1.err" 2>/dev/null | head -1 | cut -d= -f2)
    [ -n "$got" ] && { echo "$got"; return 0; }
    alive "$1" || return 0
    sleep 0.1
  done
}

# bpf_ns PID: run time of the BPF programs PID holds (needs bpf_stats_enabled).
bpf_ns() { cat /proc/"$1"/fdinfo/* 2>/dev/null | awk '$1 == "run_time_ns:" {s += $2} END {print s + 0}'; }
audit_lost() { auditctl -s 2>/dev/null | awk '$1 == "lost" {print $2}'; }

start_auditd() {
  command -v auditd >/dev/null && command -v auditctl >/dev/null || { skip "auditd: not installed (apt-get install auditd)"; return 1; }
  if pgrep -x auditd >/dev/null; then skip "auditd: one is already running on this host; not touching it"; return 1; fi
  local pid
  pid=$(auditctl -s | awk '$1 == "pid" {print $2}')
  if [ "${pid:-0}" != 0 ]; then skip "auditd: pid $pid is registered as the audit daemon"; return 1; fi
  mkdir -p "$work/audit/plugins.d"
  # Debian's own auditd.conf, logging into our work dir without rotation
  # so every record of the run can be counted.
  sed -e "s|^log_file = .*|log_file = $work/audit/audit.log|" \
    -e "s|^plugin_dir = .*|plugin_dir = $work/audit/plugins.d|" \
    -e 's|^max_log_file_action = .*|max_log_file_action = IGNORE|' \
    /etc/audit/auditd.conf >"$work/audit/auditd.conf"
  chmod 0640 "$work/audit/auditd.conf"
  start auditd auditd -n -c "$work/audit"
  local i
  for ((i = 0; i < 100; i++)); do
    [ "$(auditctl -s | awk '$1 == "pid" {print $2}')" = "${PIDS[auditd]}" ] && break
    sleep 0.1
  done
  # Debian's default rules file sets an 8192 backlog; the kernel's is 64.
  auditctl -b 8192 >/dev/null
  local arch=b64
  case $(uname -m) in i?86 | armv7* | armv6*) arch=b32 ;; esac
  auditctl -a always,exit -F arch=$arch -S execve -k azis-bench >/dev/null
}

storm_snapshot() { # TAG: CPU ticks and kernel counters of every observer
  local tag=$1 t
  for t in "${storm_tools[@]}"; do
    S[$tag/$t]=$(ticks "${PIDS[$t]}")
  done
  for t in "${storm_tools[@]}"; do
    case $t in mod-*) S[$tag/pc/$t]=$(metric "${METRICS[$t]}" 'azureiotsecurity_collector_events_total{collector="ProcessCreate"}') ;; esac
  done
  [ -n "$kauditd" ] && S[$tag/kauditd]=$(ticks "$kauditd")
  alive mod-ebpf && S[$tag/bpf]=$(bpf_ns "${PIDS[mod-ebpf]}")
  [ "$audit_touched" = 1 ] && S[$tag/lost]=$(audit_lost)
  S[$tag/busy]=$(busy_ticks)
  S[$tag/t]=$(date +%s.%N)
}

# storm_extract TOOL: once, after the observers stopped, the distinct
# "<marker>-<n>" of every storm exec the tool reported with the right
# command line ("/bin/true <marker>-<n>", nothing more).
storm_extract() {
  local p="azisb-$runid-r[a-z0-9]+-[0-9]+"
  case $1 in
  mod-*) grep -hoE "\"CommandLine\":\"/bin/true $p\"" "$work/$1.jsonl" 2>/dev/null | cut -d' ' -f2 | tr -d '"' ;;
  auditd) grep -hoE "a0=\"/bin/true\" a1=\"$p\"" "$work"/audit/audit.log* 2>/dev/null | cut -d'"' -f4 ;;
  forkstat) grep -oE "/bin/true $p *\$" "$work/forkstat.out" 2>/dev/null | awk '{print $2}' ;;
  procpoll) grep -xE "/bin/true $p" "$work/procpoll.out" 2>/dev/null | cut -d' ' -f2 ;;
  esac | sort -u >"$work/$1.marks"
}
storm_count() { grep -cE "^$2-[0-9]+\$" "$work/$1.marks" || true; } # TOOL MARKER

storm_section() {
  section "1. Exec storm: capture, CPU and memory side by side"
  if [ "$(id -u)" != 0 ]; then skip "exec storm needs root (eBPF, audit, proc connector)"; return 0; fi
  apt_install auditd || skip "auditd: could not be installed from Debian packages"
  apt_install forkstat || skip "forkstat: could not be installed from Debian packages"
  note "Generator: \`bench/cmd/execstorm\` (Go, ForkExec of \`/bin/true <marker>-<n>\`, ≤ 64 children in flight), ${storm_secs} s per rate; rate 0 = as fast as it can."
  note "Module instances: one per \`processBackend\`, each with \`--config\` (aggregation off), \`--output\` to a file; counted after a clean shutdown (everything queued is flushed)."

  # Audit rules and the audit daemon are global: hold the tests' lock for
  # the whole storm and restore the audit state before letting go.
  local use_audit=1
  log "taking the audit test lock"
  if ! audit_lock 600; then
    skip "audit: could not take ${TMPDIR:-/tmp}/azureiotsecurity-audit-test.lock within 600 s; auditd and the audit backend are left out"
    use_audit=0
  elif command -v auditctl >/dev/null; then
    audit_saved=$(auditctl -s | awk '$1 == "enabled" {e = $2} $1 == "backlog_limit" {b = $2} $1 == "rate_limit" {r = $2} $1 == "failure" {f = $2} END {print e, b, r, f}')
    audit_touched=1
  fi
  if [ -r /proc/sys/kernel/bpf_stats_enabled ]; then
    bpf_stats_saved=$(cat /proc/sys/kernel/bpf_stats_enabled)
    echo 1 >/proc/sys/kernel/bpf_stats_enabled
  fi

  log "starting the observers"
  storm_tools=()
  local b port=19700
  for b in "${storm_backends[@]}"; do
    if [ "$b" = audit ] && [ "$use_audit" = 0 ]; then continue; fi
    module_config "$b" >"$work/cfg-$b.json"
    port=$((port + 1))
    start "mod-$b" "$bin/azureiotsecurity" --config "$work/cfg-$b.json" --metrics-addr "127.0.0.1:$port" \
      --state-dir "$work/state-$b" --output "$work/mod-$b.jsonl" --shutdown-timeout 60s
    METRICS[mod-$b]="http://127.0.0.1:$port/metrics"
  done
  for b in "${storm_backends[@]}"; do
    alive "mod-$b" || continue
    local got
    got=$(wait_backend "mod-$b")
    if [ "$got" != "$b" ]; then
      skip "module/$b: unavailable here (started: ${got:-none}); log: $(grep -m1 -iE 'refus|unavail|fall' "$work/mod-$b.err" | cut -c1-200)"
      stop "mod-$b" TERM 15
      continue
    fi
    storm_tools+=("mod-$b")
  done
  kauditd=""
  if [ "$use_audit" = 1 ] && start_auditd; then
    storm_tools+=(auditd)
    kauditd=$(pgrep -x kauditd | head -1)
  fi
  if command -v forkstat >/dev/null; then
    start forkstat forkstat -e exec -l
    storm_tools+=(forkstat)
  fi
  start procpoll "$bin/procpoll" -interval 100ms -prefix "/bin/true azisb-$runid" -duration 2h
  storm_tools+=(procpoll)
  sleep 3 # start-up snapshots of the module instances settle

  declare -gA S=()
  local rate m
  for rate in "${storm_rates[@]}"; do
    m="azisb-$runid-r$rate"
    [ "$rate" = 0 ] && m="azisb-$runid-rmax"
    log "storm: rate ${rate:-max}/s for ${storm_secs}s, load $(loadavg)"
    S[$rate/load0]=$(loadavg)
    storm_snapshot "$rate/a"
    "$bin/execstorm" -rate "$rate" -duration "${storm_secs}s" -marker "$m" >"$work/storm-$rate.json"
    sleep 2 # observers drain
    storm_snapshot "$rate/b"
    S[$rate/load1]=$(loadavg)
    for t in "${storm_tools[@]}"; do S[$rate/hwm/$t]=$(status_kb "${PIDS[$t]}" VmHWM); done
  done

  # Metrics before shutdown: drops inside the module instances.
  for t in "${storm_tools[@]}"; do
    case $t in mod-*)
      curl -s --max-time 5 "${METRICS[$t]}" | grep -E '^azureiotsecurity_(events_dropped_total|process_events_dropped_total)' |
        awk '$2 > 0' >"$work/$t.drops" || true ;;
    esac
  done
  for t in "${storm_tools[@]}"; do
    case $t in mod-*) stop "$t" TERM 75 ;; auditd) stop "$t" TERM 20 ;; forkstat) stop "$t" INT 10 ;; *) stop "$t" TERM 10 ;; esac
  done
  if [ "$audit_touched" = 1 ]; then S[audit_lost_end]=$(audit_lost); fi
  restore_audit
  audit_unlock
  if [ -n "$bpf_stats_saved" ]; then echo "$bpf_stats_saved" >/proc/sys/kernel/bpf_stats_enabled; bpf_stats_saved=""; fi
  for t in "${storm_tools[@]}"; do storm_extract "$t"; done
  storm_report
}
