#!/usr/bin/env bash
# The issue-6 comparison, Sealcast (storage.sync on) against nats-server, on one machine with one
# load generator: for 1 publisher -> 1000 subscribers and 100 groups x 10 members all publishing,
# 256-byte messages, the maximum (--rate max, closed loop) and then latency at half of it (open
# loop). Writes sc-*.{json,svg,txt} and nats-*.{json,svg,txt} into OUT (default: the current
# directory). Usage: bench/compare.sh [OUT]   (BUILD=build by default: `make build` first)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$ROOT/build}
B=$BUILD/bin/sealcast-bench
S=$BUILD/bin/sealcastd
NATS=${NATS:-/usr/sbin/nats-server}
OUT=${1:-.}
mkdir -p "$OUT" && cd "$OUT"
ulimit -n 20000
half() { python3 -c "import json;print(max(1,round(json.load(open('$1'))['figures']['published_per_s']/2)))"; }

run_shape() {  # name, shape arguments...
  local name=$1; shift
  local D; D=$(mktemp -d)
  "$S" --set broker.data_dir="$D" --set gateway.listen=127.0.0.1:7900 --set admin.listen=127.0.0.1:7901 \
       --set storage.sync=true --set log.level=warn --set pubsub.max_members=2000 2> "$D/broker.log" &
  local P=$!; sleep 1
  echo "sealcast $name: $(uptime)"
  "$B" fanout --url ws://127.0.0.1:7900/ws "$@" --rate max --no-verify --warmup 2 --duration 10 --broker-pid $P \
       --no-progress --json "sc-$name-max.json" --plot "sc-$name-max.svg" > "sc-$name-max.txt" 2>&1
  local H; H=$(half "sc-$name-max.json")
  "$B" fanout --url ws://127.0.0.1:7900/ws "$@" --rate "$H" --no-verify --warmup 2 --duration 10 --broker-pid $P \
       --no-progress --json "sc-$name-half.json" --plot "sc-$name-half.svg" > "sc-$name-half.txt" 2>&1
  kill $P; wait $P || true; rm -rf "$D"

  "$NATS" -c "$ROOT/bench/nats-bench.conf" > "nats-$name.log" 2>&1 &
  local N=$!; sleep 1
  echo "nats $name: $(uptime)"
  "$B" fanout --target nats://127.0.0.1:4223 "$@" --rate max --no-verify --warmup 2 --duration 10 --broker-pid $N \
       --no-progress --json "nats-$name-max.json" --plot "nats-$name-max.svg" > "nats-$name-max.txt" 2>&1
  H=$(half "nats-$name-max.json")
  "$B" fanout --target nats://127.0.0.1:4223 "$@" --rate "$H" --no-verify --warmup 2 --duration 10 --broker-pid $N \
       --no-progress --json "nats-$name-half.json" --plot "nats-$name-half.svg" > "nats-$name-half.txt" 2>&1
  kill $N; wait $N || true
}

run_shape 1x1000 --groups 1 --members 1000
# A small window: 1000 closed-loop publishers with the default 64 each keep 64,000 publishes in
# flight, which is a queue, not a rate.
run_shape 100x10 --groups 100 --members 10 --all-publish --window 4
