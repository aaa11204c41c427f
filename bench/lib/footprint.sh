# Idle footprint (item 2) and churn stability (item 3) of the module with
# its default configuration. Sourced by bench/run.

# start_quiet NAME CMD...: like start, but stdout and stderr go through
# pipes, so /proc/PID/io write_bytes counts only the module's own disk
# writes (state directory); stdout bytes (the local-mode messages) are
# counted into $work/NAME.outbytes when it exits.
start_quiet() {
  local name=$1; shift
  ( exec "$@" ) > >(wc -c >"$work/$name.outbytes") 2> >(cat >"$work/$name.err") &
  PIDS[$name]=$!
  STOP_ORDER+=("$name")
}

idle_section() {
  section "2. Idle footprint (default configuration)"
  local url=http://127.0.0.1:19790 hz
  hz=$(getconf CLK_TCK)
  start_quiet idle "$bin/azureiotsecurity" --metrics-addr 127.0.0.1:19790 --state-dir "$work/state-idle"
  if ! wait_ready "$url/readyz"; then skip "idle: the module did not become ready in 30 s: $(tail -2 "$work/idle.err")"; stop idle; return 0; fi
  start idle-procpoll "$bin/procpoll" -interval 100ms -prefix "/nonexistent-prefix" -duration 2h
  command -v forkstat >/dev/null && start idle-forkstat forkstat -e exec -l
  sleep 5 # start-up snapshots are sent; what follows is the idle state
  local p=${PIDS[idle]} peers=() t
  alive idle-forkstat && peers+=(idle-forkstat)
  peers+=(idle-procpoll)
  declare -A a=() b=()
  a[t]=$(date +%s.%N) a[ticks]=$(ticks "$p") a[cs]=$(ctxsw "$p") a[wb]=$(io_field "$p" write_bytes)
  a[msgs]=$(metric "$url/metrics" 'azureiotsecurity_messages_total{outcome="sent"}')
  a[bytes]=$(metric "$url/metrics" azureiotsecurity_message_sent_bytes_total)
  a[busy]=$(busy_ticks)
  a[pc]=$(metric "$url/metrics" 'azureiotsecurity_collector_events_total{collector="ProcessCreate"}')
  for t in "${peers[@]}"; do a[$t]=$(ticks "${PIDS[$t]}") a[cs/$t]=$(ctxsw "${PIDS[$t]}"); done
  log "idle: ${idle_secs}s, load $(loadavg)"
  local i peak=0 r
  for ((i = 0; i < idle_secs; i += 5)); do
    sleep 5
    r=$(status_kb "$p" VmRSS)
    [ "${r:-0}" -gt "$peak" ] && peak=$r
  done
  b[t]=$(date +%s.%N) b[ticks]=$(ticks "$p") b[cs]=$(ctxsw "$p") b[wb]=$(io_field "$p" write_bytes)
  b[msgs]=$(metric "$url/metrics" 'azureiotsecurity_messages_total{outcome="sent"}')
  b[bytes]=$(metric "$url/metrics" azureiotsecurity_message_sent_bytes_total)
  b[busy]=$(busy_ticks)
  b[pc]=$(metric "$url/metrics" 'azureiotsecurity_collector_events_total{collector="ProcessCreate"}')
  for t in "${peers[@]}"; do b[$t]=$(ticks "${PIDS[$t]}") b[cs/$t]=$(ctxsw "${PIDS[$t]}"); done
  curl -s --max-time 5 "$url/metrics" >"$work/idle.metrics" || true
  cp "/proc/$p/smaps_rollup" "$work/idle.smaps" 2>/dev/null || true
  local wall ncpu
  wall=$(calc "${b[t]} - ${a[t]}" 1)
  ncpu=$(nproc)
  note "Window: $wall s after start-up (the module's first snapshots are sent before it), machine $(calc "100 * (${b[busy]} - ${a[busy]}) / $hz / ($wall * $ncpu)" 1) % busy, load $(loadavg); the module reported $(calc "${b[pc]} - ${a[pc]}" 0) ProcessCreate events from the rest of the host in it (an idle host has far fewer)."
  note ""
  note "| Process | RSS now MiB | Peak RSS MiB (VmHWM) | CPU s | CPU % of all $ncpu CPUs | Wakeups/s (context switches) | Disk bytes written |"
  note "|---|---|---|---|---|---|---|"
  note "| module (auto backend: $(grep -oE 'backend started"? backend=[a-z-]+' "$work/idle.err" | head -1 | cut -d= -f2)) | $(calc "$(status_kb "$p" VmRSS) / 1024" 1) | $(calc "$(status_kb "$p" VmHWM) / 1024" 1) | $(calc "(${b[ticks]} - ${a[ticks]}) / $hz" 2) | $(calc "100 * (${b[ticks]} - ${a[ticks]}) / $hz / ($wall * $ncpu)" 3) % | $(calc "(${b[cs]} - ${a[cs]}) / $wall" 1) | $(( ${b[wb]:-0} - ${a[wb]:-0} )) |"
  for t in "${peers[@]}"; do
    local pp=${PIDS[$t]}
    note "| ${t#idle-} | $(calc "$(status_kb "$pp" VmRSS) / 1024" 1) | $(calc "$(status_kb "$pp" VmHWM) / 1024" 1) | $(calc "(${b[$t]} - ${a[$t]}) / $hz" 2) | $(calc "100 * (${b[$t]} - ${a[$t]}) / $hz / ($wall * $ncpu)" 3) % | $(calc "(${b[cs/$t]} - ${a[cs/$t]}) / $wall" 1) | $(io_field "$pp" write_bytes) |"
  done
  note ""
  note "Messages sent in the window: $(calc "${b[msgs]} - ${a[msgs]}" 0), $(calc "${b[bytes]} - ${a[bytes]}" 0) bytes; since start: $(calc "${b[msgs]}" 0) messages, $(calc "${b[bytes]}" 0) bytes (local mode: to standard output)."
  note "Targets (issue 9): ≤ 12 MB RSS, ≤ 0.1 % CPU; the retired C agent documented 5.5 MB."
  note ""
  note "Where the memory goes (/proc/PID/smaps_rollup and the Go runtime's /metrics at the end of the window):"
  {
    grep -E '^(Rss|Pss_Anon|Pss_File|Anonymous|Private_Clean|Private_Dirty|Shared_Clean):' "$work/idle.smaps" 2>/dev/null
    grep -E '^go_(memstats_(sys|heap_(sys|inuse|idle|released|alloc)|stack_(inuse|sys)|mspan_inuse|mcache_inuse|gc_sys|other_sys|buck_hash_sys)_bytes|goroutines|threads|gc_gogc_percent) ' "$work/idle.metrics" 2>/dev/null |
      awk '{ if ($1 ~ /bytes$/) printf "%-40s %10.2f MiB\n", $1, $2 / 1048576; else printf "%-40s %10s\n", $1, $2 }'
  } | raw
  local x
  for x in idle-forkstat idle-procpoll; do stop "$x" TERM 5; done
  stop idle TERM 30
  note "Messages written to standard output over the whole run, shutdown flush included: $(cat "$work/idle.outbytes" 2>/dev/null || echo '?') bytes."
}

churn_section() {
  section "3. Churn stability: 1600 exec/s, RSS every ${churn_every} s"
  local url=http://127.0.0.1:19791
  start churn "$bin/azureiotsecurity" --metrics-addr 127.0.0.1:19791 --state-dir "$work/state-churn" --output /dev/null
  if ! wait_ready "$url/readyz"; then skip "churn: the module did not become ready in 30 s"; stop churn; return 0; fi
  sleep 3
  local p=${PIDS[churn]} t0 n i
  start churn-storm "$bin/execstorm" -rate 1600 -duration "${churn_secs}s" -marker "azisb-$runid-churn"
  t0=$(date +%s.%N)
  n=$((churn_secs / churn_every))
  : >"$work/churn.samples"
  log "churn: ${churn_secs}s at 1600/s, load $(loadavg)"
  for ((i = 0; i <= n; i++)); do
    printf '%s %s %s %s\n' "$(calc "$(date +%s.%N) - $t0" 1)" "$(status_kb "$p" VmRSS)" \
      "$(metric "$url/metrics" go_memstats_heap_inuse_bytes)" "$(ticks "$p")" >>"$work/churn.samples"
    # Samples after the storm ended would flatten the slope: stop there.
    alive churn-storm || break
    [ "$i" -lt "$n" ] && sleep "$churn_every"
  done
  # The generator stops by itself at -duration; give it a bounded grace.
  for ((i = 0; i < 150; i++)); do alive churn-storm || break; sleep 0.1; done
  stop churn-storm TERM 5
  local launched
  launched=$(json_num "$work/churn-storm.out" launched)
  note "Module with the default configuration (auto backend, aggregation on) under \`execstorm -rate 1600 -duration ${churn_secs}s\` (unique command lines: the worst case for the aggregation window): $launched launched, $(calc "$(json_num "$work/churn-storm.out" achieved_per_s)" 0)/s achieved; load $(loadavg)."
  note ""
  { echo "seconds  RSS_KiB  heap_inuse_bytes  cpu_ticks"; cat "$work/churn.samples"; } | raw
  # Least-squares slope of RSS (and heap) over the last half of the samples.
  note "$(awk -v hz="$(getconf CLK_TCK)" -v ncpu="$(nproc)" '{t[NR] = $1; r[NR] = $2; h[NR] = $3; c[NR] = $4}
    END {
      s = int(NR / 2) + 1; k = NR - s + 1
      if (k < 2) { print "Too few samples for a slope."; exit }
      for (i = s; i <= NR; i++) { mt += t[i]; mr += r[i]; mh += h[i] }
      mt /= k; mr /= k; mh /= k
      for (i = s; i <= NR; i++) { sxx += (t[i] - mt)^2; sxr += (t[i] - mt) * (r[i] - mr); sxh += (t[i] - mt) * (h[i] - mh) }
      printf "Slope over the last %d samples (%.0f s → %.0f s): RSS %+.1f KiB/min, Go heap in use %+.1f KiB/min. ", k, t[s], t[NR], 60 * sxr / sxx, 60 * sxh / sxx / 1024
      printf "RSS at the start and end of that half: %.1f / %.1f MiB. ", r[s] / 1024, r[NR] / 1024
      printf "CPU over the whole storm: %.2f %% of all %d CPUs.", 100 * (c[NR] - c[1]) / hz / (t[NR] - t[1]) / ncpu, ncpu
    }' "$work/churn.samples")"
  curl -s --max-time 5 "$url/metrics" | grep -E '^azureiotsecurity_(events_dropped_total|process_events_dropped_total)' | awk '$2 > 0' | sed 's/^/- drop: /' | tee -a "$results" || true
  stop churn TERM 30
}
