#!/usr/bin/env bash
# Stops a local cluster that scripts/cluster-up.sh started in DIR (default ./cluster-data): the
# sealcastd nodes first (SIGTERM: they leave and release their leases), then the nats-servers,
# each by the pid recorded in DIR/pids and only if that pid still runs the program it started.
# The data directories stay; remove DIR to start afresh.
#
#   scripts/cluster-down.sh [DIR]
set -euo pipefail

dir=${1:-./cluster-data}
pids=$dir/pids
[[ -f $pids ]] || { echo "cluster-down: no $pids: nothing to stop" >&2; exit 0; }

# True when pid $1 is alive and its command line names $2 (a pid can be reused after an exit).
runs() { [[ -r /proc/$1/cmdline ]] && tr '\0' ' ' <"/proc/$1/cmdline" | grep -q -- "$2"; }

stop() {
  local program=$1
  shift
  local pid left=()
  for pid in "$@"; do
    if runs "$pid" "$program"; then kill -TERM "$pid" && left+=("$pid"); fi
  done
  for ((t = 0; t < 100 && ${#left[@]} > 0; t++)); do
    local still=()
    for pid in "${left[@]}"; do runs "$pid" "$program" && still+=("$pid"); done
    left=("${still[@]+"${still[@]}"}")
    ((${#left[@]} == 0)) || sleep 0.1
  done
  for pid in "${left[@]+"${left[@]}"}"; do
    echo "cluster-down: $program $pid did not stop in 10 s: kill -9" >&2
    kill -KILL "$pid" 2>/dev/null || true
  done
}

nodes=() servers=()
while read -r label pid; do
  case $label in
    node-*) nodes+=("$pid") ;;
    nats-*) servers+=("$pid") ;;
  esac
done <"$pids"

stop sealcastd "${nodes[@]+"${nodes[@]}"}"
stop nats-server "${servers[@]+"${servers[@]}"}"
rm -f "$pids"
echo "cluster-down: stopped ${#nodes[@]} nodes and ${#servers[@]} nats-servers ($dir kept)"
