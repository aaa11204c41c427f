# Tables of the exec storm, from the snapshots storm_section took.

# json_num FILE KEY: a number from execstorm's one-line JSON result.
json_num() { grep -oE "\"$2\":[0-9.e+-]+" "$1" | head -1 | cut -d: -f2; }

storm_report() {
  local hz ncpu rate t
  hz=$(getconf CLK_TCK)
  ncpu=$(nproc)
  for rate in "${storm_rates[@]}"; do
    local m="azisb-$runid-r$rate" label="$rate/s"
    [ "$rate" = 0 ] && m="azisb-$runid-rmax" && label="max"
    local f="$work/storm-$rate.json"
    [ -s "$f" ] || { skip "rate $label: the generator printed nothing"; continue; }
    local launched achieved wall busy gen_cpu kid_cpu
    launched=$(json_num "$f" launched)
    achieved=$(json_num "$f" achieved_per_s)
    wall=$(calc "${S[$rate/b/t]} - ${S[$rate/a/t]}")
    busy=$(calc "100 * (${S[$rate/b/busy]} - ${S[$rate/a/busy]}) / $hz / ($wall * $ncpu)" 1)
    gen_cpu=$(json_num "$f" cpu_seconds)
    kid_cpu=$(json_num "$f" children_cpu_seconds)
    printf '\n### Rate %s: %s launched, %s/s achieved, window %s s\n\n' "$label" "$launched" "$(calc "$achieved" 0)" "$wall" | tee -a "$results"
    note "Machine during the window: all CPUs $busy % busy (every process on the host), load average ${S[$rate/load0]} → ${S[$rate/load1]}. Generator: $(calc "$gen_cpu") s CPU, children (the /bin/true processes, exec included) $(calc "$kid_cpu") s = $(calc "1e6 * $kid_cpu / ($launched > 0 ? $launched : 1)" 0) µs per exec."
    if [ -n "${S[$rate/a/lost]:-}" ]; then
      note "Audit records lost by the kernel in the window: $(( ${S[$rate/b/lost]:-0} - ${S[$rate/a/lost]:-0} ))."
    fi
    note ""
    note "| Observer | Captured (right command line) | Capture | CPU s | CPU % of all $ncpu CPUs | Kernel-side CPU | Peak RSS MiB | CPU ÷ forkstat | CPU ÷ auditd+kauditd | Host execs handled |"
    note "|---|---|---|---|---|---|---|---|---|---|"
    local ref_fs="" ref_ad=""
    declare -A cpu=()
    for t in "${storm_tools[@]}"; do
      cpu[$t]=$(calc "(${S[$rate/b/$t]:-0} - ${S[$rate/a/$t]:-0}) / $hz" 3)
    done
    [ -n "${cpu[forkstat]:-}" ] && ref_fs=${cpu[forkstat]}
    if [ -n "${cpu[auditd]:-}" ]; then
      ref_ad=$(calc "${cpu[auditd]} + (${S[$rate/b/kauditd]:-0} - ${S[$rate/a/kauditd]:-0}) / $hz" 3)
    fi
    for t in "${storm_tools[@]}"; do
      local got pct share kern="" r1="" r2="" name=$t
      got=$(storm_count "$t" "$m")
      pct=$(calc "100 * $got / ($launched > 0 ? $launched : 1)" 1)
      share=$(calc "100 * ${cpu[$t]} / ($wall * $ncpu)" 2)
      case $t in
      mod-ebpf) kern="BPF programs $(calc "(${S[$rate/b/bpf]:-0} - ${S[$rate/a/bpf]:-0}) / 1e9" 3) s" ;;
      mod-audit) kern="kauditd (shared with auditd)" ;;
      mod-proc-connector | forkstat) kern="in the exec path (not separable)" ;;
      auditd) kern="kauditd $(calc "(${S[$rate/b/kauditd]:-0} - ${S[$rate/a/kauditd]:-0}) / $hz" 3) s" ;;
      procpoll) kern="in its own system time" ;;
      esac
      case $t in mod-*) name="module/${t#mod-}" ;; procpoll) name="/proc poller (100 ms)" ;; esac
      if [ -n "$ref_fs" ]; then r1=$(calc "${cpu[$t]} / ($ref_fs > 0 ? $ref_fs : 0.001)" 2); fi
      local mine=${cpu[$t]}
      [ "$t" = auditd ] && mine=$ref_ad
      if [ -n "$ref_ad" ]; then r2=$(calc "$mine / ($ref_ad > 0 ? $ref_ad : 0.001)" 2); fi
      local handled=""
      case $t in mod-*) handled=$(calc "${S[$rate/b/pc/$t]:-0} - ${S[$rate/a/pc/$t]:-0}" 0) ;; esac
      note "| $name | $got / $launched | $pct % | ${cpu[$t]} | $share % | $kern | $(calc "${S[$rate/hwm/$t]:-0} / 1024" 1) | $r1 | $r2 | $handled |"
    done
    unset cpu
  done
  note ""
  note "CPU is utime+stime of the observer's process (all threads) over the window (storm + 2 s drain); auditd's ratio counts auditd plus kauditd. Peak RSS is VmHWM since the observer started (module start-up snapshots included). Host execs handled: ProcessCreate events the module instance emitted in the window (azureiotsecurity_collector_events_total), i.e. the storm plus every other exec on the host: each instance sees (and hashes the executable of) all of them."
  local any=0
  for t in "${storm_tools[@]}"; do
    if [ -s "$work/$t.drops" ]; then
      [ $any = 0 ] && note "" && note "Drops counted inside the module instances (metrics at the end of the storm):" && any=1
      sed "s/^/- $t: /" "$work/$t.drops" | tee -a "$results"
    fi
  done
  [ $any = 0 ] && note "" && note "No drops counted by any module instance (azureiotsecurity_events_dropped_total, azureiotsecurity_process_events_dropped_total)."
  return 0
}
