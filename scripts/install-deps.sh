#!/usr/bin/env bash
# Installs every Debian package Sealcast needs to build, test and run. Idempotent: packages that
# are already present are skipped, and apt is only touched when something is missing.
# Runs as root (CI) or through sudo (a developer's machine).
set -euo pipefail

SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi

# Build toolchain and libraries (bookworm main).
packages=(
  build-essential cmake ninja-build ccache pkg-config git
  libcaf-dev
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
  libbotan-2-dev
  librocksdb-dev
  libtomlplusplus-dev
  libcli11-dev libspdlog-dev
  libssl-dev openssl
  # libmosquitto: the MQTT client of sealcast-bench's Mosquitto target.
  libmosquitto-dev
  # liburing: Asio's io_uring backend, built by the `uring` preset to measure against epoll.
  liburing-dev
  # libnats: the NATS C client (cnats) behind cluster/. The cluster mode keeps its log and leases
  # in NATS JetStream (docs/cluster.md), and cnats is the only packaged client with JetStream,
  # key-value and direct-get APIs; nats-server below runs the test clusters.
  libnats-dev
  python3
  # The fuzz targets (make fuzz, and the fuzz smokes of make test): clang 14, and libFuzzer with the
  # sanitizer runtimes, which Debian ships in libclang-rt-14-dev.
  clang-14 libclang-rt-14-dev
  # Test-time tools: headless Chromium renders the dashboard, promtool checks /metrics, and
  # nats-server and mosquitto are the comparison targets of sealcast-bench (nats-server also runs
  # the JetStream clusters of tests/cluster); curl reads an SSE stream over https.
  chromium nats-server mosquitto prometheus curl
)
# Catch2 3 only exists in bookworm-backports (bookworm main ships Catch2 2).
backports=(catch2)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
catch2_ok=0
if dpkg-query -W -f='${Status} ${Version}' catch2 2>/dev/null | grep -q "install ok installed 3\."; then
  catch2_ok=1
fi

if [[ ${#missing[@]} -eq 0 && $catch2_ok -eq 1 ]]; then
  echo "install-deps: everything is installed"
  exit 0
fi

bp=/etc/apt/sources.list.d/bookworm-backports.sources
if [[ ! -f $bp ]] && ! grep -rqs "bookworm-backports" /etc/apt/sources.list /etc/apt/sources.list.d/; then
  echo "install-deps: adding the bookworm-backports suite"
  $SUDO tee "$bp" >/dev/null <<'SRC'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
fi

export DEBIAN_FRONTEND=noninteractive
echo "install-deps: installing ${missing[*]:-} ${backports[*]}"
$SUDO apt-get update -qq
if [[ ${#missing[@]} -gt 0 ]]; then
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
if [[ $catch2_ok -eq 0 ]]; then
  $SUDO apt-get install -y -qq --no-install-recommends -t bookworm-backports "${backports[@]}"
fi
echo "install-deps: done"
