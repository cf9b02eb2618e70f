#!/usr/bin/env bash
# Sealcast against nats-server and Mosquitto (issue 12), one load generator on one machine: the
# broker under test pinned to one CPU, sealcast-bench to another. For every shape, each target's
# maximum (--rate max, closed loop), then each target in open loop at LATENCY_FRACTION (40 %) of
# the slowest target's maximum, for publish -> deliver p50/p99. A fresh broker per run.
#
# Usage: bench/compare.sh [OUT]        (OUT: the current directory by default; `make build` first)
# Writes per run  TARGET-SHAPE-{max,lat}.{txt,json,svg}  and  TARGET-SHAPE-{max,lat}.broker.log,
# and the summary compare.md, compare.json and compare.svg (bench/compare_table.py).
#
# Environment (defaults in brackets):
#   TARGETS [sealcast nats mqtt]     which brokers
#   SHAPES [1x1000 100x10 50x2]      which shapes (below)
#   WARMUP [2] DURATION [10]         seconds of warm-up and of the measured window per run
#   SEALCAST_SET []                  extra sealcastd flags, e.g. "--set gateway.io_threads=1"
#   BENCH_ARGS []                    extra sealcast-bench flags, e.g. "--threads 2"
#   LATENCY_FRACTION [0.4]           of the slowest target's max published/s, for the latency runs
#   LATENCY_RATE []                  publishes/s for the latency runs instead (e.g. to rerun one
#                                    target at the rate of an earlier full run)
#   BROKER_CPU [0] BENCH_CPU [1]     the CPUs taskset pins them to
#   BUILD [build] NATS [/usr/sbin/nats-server] MOSQUITTO [/usr/sbin/mosquitto]
# e.g. rerun one shape of one target quickly:  TARGETS=mqtt SHAPES=100x10 DURATION=3 bench/compare.sh /tmp/c
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$ROOT/build}
B=$BUILD/bin/sealcast-bench
S=$BUILD/bin/sealcastd
NATS=${NATS:-/usr/sbin/nats-server}
MOSQUITTO=${MOSQUITTO:-/usr/sbin/mosquitto}
TARGETS=${TARGETS:-sealcast nats mqtt}
SHAPES=${SHAPES:-1x1000 100x10 50x2}
WARMUP=${WARMUP:-2}
DURATION=${DURATION:-10}
SEALCAST_SET=${SEALCAST_SET:-}
BENCH_ARGS=${BENCH_ARGS:-}
LATENCY_FRACTION=${LATENCY_FRACTION:-0.4}
LATENCY_RATE=${LATENCY_RATE:-}
BROKER_CPU=${BROKER_CPU:-0}
BENCH_CPU=${BENCH_CPU:-1}
OUT=${1:-.}
mkdir -p "$OUT" && cd "$OUT"
ulimit -n 20000

# Fixed for every Sealcast run: no per-connection publish limit (2000/s by default would throttle
# the closed loop), room for an owner and 1000 members, every publish synced before its ok.
SEALCAST_FIXED=(--set limits.publish_rate=0 --set pubsub.max_members=2000 --set storage.sync=true --set log.level=warn)

shape_args() {
  case $1 in
    1x1000) echo "--groups 1 --members 1000" ;;
    # A small window: 1000 closed-loop publishers with the default 64 each would keep 64,000
    # publishes in flight, which is a queue, not a rate.
    100x10) echo "--groups 100 --members 10 --all-publish --window 4" ;;
    # Durable: each publish reaches one member, so the publish path (for Sealcast a synced
    # RocksDB write) dominates; the figure is publishes/s.
    50x2) echo "--groups 50 --members 2 --all-publish" ;;
    *) echo "compare.sh: unknown shape $1 (1x1000, 100x10, 50x2)" >&2; return 1 ;;
  esac
}

wait_port() {  # port: until something accepts on 127.0.0.1:port (10 s at most)
  for _ in $(seq 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  echo "compare.sh: nothing listens on 127.0.0.1:$1" >&2
  return 1
}

BROKER_PID="" BROKER_DIR="" TARGET_ARGS=()
start_broker() {  # target, log file
  BROKER_DIR=$(mktemp -d)
  case $1 in
    sealcast)
      # shellcheck disable=SC2086  # SEALCAST_SET is a list of flags
      taskset -c "$BROKER_CPU" "$S" --set broker.data_dir="$BROKER_DIR/data" --set gateway.listen=127.0.0.1:7900 \
        --set admin.listen=127.0.0.1:7901 "${SEALCAST_FIXED[@]}" $SEALCAST_SET > "$2" 2>&1 &
      BROKER_PID=$!
      TARGET_ARGS=(--url ws://127.0.0.1:7900/ws)
      wait_port 7900 ;;
    nats)
      taskset -c "$BROKER_CPU" "$NATS" -c "$ROOT/bench/nats-bench.conf" > "$2" 2>&1 &
      BROKER_PID=$!
      TARGET_ARGS=(--target nats://127.0.0.1:4223)
      wait_port 4223 ;;
    mqtt)
      { cat "$ROOT/bench/mosquitto-bench.conf"
        echo "persistence_location $BROKER_DIR/"
        echo "user $(id -un)"; } > "$BROKER_DIR/mosquitto.conf"
      taskset -c "$BROKER_CPU" "$MOSQUITTO" -c "$BROKER_DIR/mosquitto.conf" > "$2" 2>&1 &
      BROKER_PID=$!
      TARGET_ARGS=(--target mqtt://127.0.0.1:18830)
      wait_port 18830 ;;
    *) echo "compare.sh: unknown target $1 (sealcast, nats, mqtt)" >&2; return 1 ;;
  esac
}

stop_broker() {
  if [[ -n $BROKER_PID ]]; then
    kill "$BROKER_PID" 2>/dev/null || true
    wait "$BROKER_PID" 2>/dev/null || true
  fi
  [[ -z $BROKER_DIR ]] || rm -rf "$BROKER_DIR"
  BROKER_PID="" BROKER_DIR=""
}
trap stop_broker EXIT

run() {  # target, shape, kind (max|lat), rate
  local name=$1-$2-$3
  start_broker "$1" "$name.broker.log"
  echo "$name: rate $4, $(uptime)"
  # shellcheck disable=SC2046,SC2086  # shape_args and BENCH_ARGS are lists of flags
  taskset -c "$BENCH_CPU" "$B" fanout "${TARGET_ARGS[@]}" $(shape_args "$2") --rate "$4" --no-verify \
    --warmup "$WARMUP" --duration "$DURATION" --broker-pid "$BROKER_PID" --no-progress $BENCH_ARGS \
    --json "$name.json" --plot "$name.svg" > "$name.txt" 2>&1 || echo "$name: sealcast-bench failed, see $name.txt"
  stop_broker
}

# The open-loop rate of a shape: LATENCY_FRACTION of the lowest published/s of its max runs.
latency_rate() {  # shape
  if [[ -n $LATENCY_RATE ]]; then echo "$LATENCY_RATE"; return; fi
  # shellcheck disable=SC2086  # TARGETS is a list
  python3 - "$1" "$LATENCY_FRACTION" $TARGETS <<'PY'
import json, sys
shape, fraction, targets = sys.argv[1], float(sys.argv[2]), sys.argv[3:]
rates = []
for t in targets:
    try:
        rates.append(json.load(open(f"{t}-{shape}-max.json"))["figures"]["published_per_s"])
    except (OSError, KeyError, ValueError):
        pass
print(max(1, round(fraction * min(rates))) if rates else 1)
PY
}

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
command -v taskset >/dev/null || { echo "compare.sh: taskset (util-linux) is needed" >&2; exit 1; }
echo "compare.sh: targets [$TARGETS], shapes [$SHAPES], warm-up $WARMUP s, window $DURATION s," \
     "broker on CPU $BROKER_CPU, bench on CPU $BENCH_CPU, SEALCAST_SET [$SEALCAST_SET], BENCH_ARGS [$BENCH_ARGS]"
for shape in $SHAPES; do
  shape_args "$shape" > /dev/null
  for t in $TARGETS; do run "$t" "$shape" max max; done
  rate=$(latency_rate "$shape")
  for t in $TARGETS; do run "$t" "$shape" lat "$rate"; done
done

if [[ -n $LATENCY_RATE ]]; then lat="$LATENCY_RATE publishes/s"; else lat="$LATENCY_FRACTION x the slowest target's max publishes/s"; fi
python3 "$ROOT/bench/compare_table.py" --dir . --targets "$TARGETS" --shapes "$SHAPES" \
  --setting "warm-up $WARMUP s, window $DURATION s, broker on CPU $BROKER_CPU, bench on CPU $BENCH_CPU, --no-verify" \
  --setting "SEALCAST_SET: ${SEALCAST_SET:-(none)}; BENCH_ARGS: ${BENCH_ARGS:-(none)}" \
  --setting "latency runs (open loop) at $lat; load average before: $LOAD_BEFORE"
cat compare.md
