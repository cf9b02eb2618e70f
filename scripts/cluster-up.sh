#!/usr/bin/env bash
# Starts a local Sealcast cluster on loopback: three nats-servers with JetStream clustering and
# three sealcastd nodes, each with its own data directory under DIR (default ./cluster-data).
# Prints each node's client URL, admin URL and admin token; scripts/cluster-down.sh DIR stops
# everything by the pids recorded in DIR/pids. See docs/cluster.md, "Running a local cluster".
#
#   scripts/cluster-up.sh [DIR]
#
# Environment: SEALCASTD (default build/bin/sealcastd), NATS_SERVER (default nats-server),
# NATS_PORT (first NATS client port, default 4222; routes at +1000, monitoring at +4000),
# NODE_PORT (first node's client port, default 7400; node i listens on NODE_PORT + 10*i and
# its admin API on NODE_PORT + 10*i + 1).
set -euo pipefail

dir=${1:-./cluster-data}
here=$(cd "$(dirname "$0")/.." && pwd)
sealcastd=${SEALCASTD:-$here/build/bin/sealcastd}
nats_server=${NATS_SERVER:-nats-server}
nats_port=${NATS_PORT:-4222}
node_port=${NODE_PORT:-7400}
count=3

die() { echo "cluster-up: $*" >&2; exit 1; }
[[ -x $sealcastd ]] || die "no sealcastd at $sealcastd (build first, or set SEALCASTD)"
command -v "$nats_server" >/dev/null || die "no $nats_server on the PATH (scripts/install-deps.sh)"
if [[ -s $dir/pids ]]; then die "$dir/pids exists: a cluster may be running (scripts/cluster-down.sh $dir)"; fi

mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
: >"$dir/pids"

# Starts "$@" in the background, its output in log file $1; records "label pid" in DIR/pids.
launch() {
  local label=$1 log=$2
  shift 2
  "$@" >"$log" 2>&1 &
  echo "$label $!" >>"$dir/pids"
}

fail() {
  echo "cluster-up: $*" >&2
  echo "cluster-up: stopping what was started" >&2
  "$here/scripts/cluster-down.sh" "$dir" >&2 || true
  exit 1
}

# -- nats-servers ------------------------------------------------------------------------------
urls=()
for ((i = 0; i < count; i++)); do urls+=("nats://127.0.0.1:$((nats_port + i))"); done
for ((i = 0; i < count; i++)); do
  d=$dir/nats-$i
  mkdir -p "$d/store"
  routes=""
  for ((j = 0; j < count; j++)); do
    ((j == i)) || routes+="    \"nats-route://127.0.0.1:$((nats_port + 1000 + j))\""$'\n'
  done
  cat >"$d/nats.conf" <<CONF
server_name: "nats-$i"
listen: "127.0.0.1:$((nats_port + i))"
http: "127.0.0.1:$((nats_port + 4000 + i))"
jetstream {
  store_dir: "$d/store"
  max_memory_store: 268435456
  max_file_store: 2147483648
}
cluster {
  name: "sealcast-local"
  listen: "127.0.0.1:$((nats_port + 1000 + i))"
  routes: [
$routes  ]
}
CONF
  launch "nats-$i" "$d/nats.log" "$nats_server" -c "$d/nats.conf"
done

# Healthy: JetStream up, a meta leader elected and this server current with it.
for ((i = 0; i < count; i++)); do
  ok=""
  for ((t = 0; t < 150; t++)); do
    if curl -fsS "http://127.0.0.1:$((nats_port + 4000 + i))/healthz" >/dev/null 2>&1; then ok=1; break; fi
    sleep 0.2
  done
  [[ -n $ok ]] || fail "nats-$i did not become healthy (see $dir/nats-$i/nats.log)"
done

# -- sealcastd nodes ---------------------------------------------------------------------------
nats_list=$(printf '"%s", ' "${urls[@]}")
nats_list="[${nats_list%, }]"
for ((i = 0; i < count; i++)); do
  d=$dir/node-$i
  mkdir -p "$d"
  client=127.0.0.1:$((node_port + 10 * i))
  admin=127.0.0.1:$((node_port + 10 * i + 1))
  [[ -s $d/admin.token ]] || (umask 077 && openssl rand -hex 16 >"$d/admin.token")
  cat >"$d/sealcast.toml" <<CONF
[broker]
data_dir = "$d/data"
[gateway]
listen = "$client"
[admin]
listen = "$admin"
token = "$(cat "$d/admin.token")"
[cluster]
nats = $nats_list
node = "node-$i"
advertise = "ws://$client/ws"
replicas = 3
CONF
  chmod 600 "$d/sealcast.toml"
  launch "node-$i" "$d/sealcastd.log" "$sealcastd" --config "$d/sealcast.toml"
done

for ((i = 0; i < count; i++)); do
  d=$dir/node-$i
  ok=""
  for ((t = 0; t < 200; t++)); do
    if grep -q "sealcastd ready" "$d/sealcastd.log" 2>/dev/null; then ok=1; break; fi
    sleep 0.1
  done
  [[ -n $ok ]] || fail "node-$i did not start (see $d/sealcastd.log)"
done

echo "Sealcast cluster up in $dir (stop it with scripts/cluster-down.sh $dir)"
echo "NATS: ${urls[*]}"
for ((i = 0; i < count; i++)); do
  echo "node-$i client=ws://127.0.0.1:$((node_port + 10 * i))/ws admin=http://127.0.0.1:$((node_port + 10 * i + 1)) token=$(cat "$dir/node-$i/admin.token")"
done
