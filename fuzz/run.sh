#!/usr/bin/env bash
# Runs one libFuzzer target of build-fuzz/fuzz/ for a set time on a scratch copy of its seed corpus
# (the tree is never modified), with ASan, UBSan and leak detection. Used by `make fuzz` and by
# the 30 s smoke tests (ctest -L fuzz).
#
#   fuzz/run.sh TARGET SECONDS [libFuzzer flags...]      e.g. fuzz/run.sh codec 60 -jobs=2
#
# TARGET is one of client_frame server_frame admin_http config codec. Exit status: 0 when the target
# ran clean, 1 when it crashed, leaked, hit UB or timed out (the log and the input that did it are
# kept and named), 77 when build-fuzz has no such binary (the smoke tests are then skipped).
# FUZZ_BIN_DIR overrides build-fuzz/fuzz; FUZZ_KEEP=1 keeps the scratch directory.
set -uo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
if [[ $# -lt 2 ]]; then
  echo "usage: $0 TARGET SECONDS [libFuzzer flags...]" >&2
  exit 2
fi
target=$1
seconds=$2
shift 2
bin=${FUZZ_BIN_DIR:-$root/build-fuzz/fuzz}/fuzz_$target
corpus=$root/fuzz/corpus/$target
if [[ ! -x $bin ]]; then
  echo "fuzz/run.sh: $bin is not built; run 'make fuzz-build' (cmake --preset fuzz && cmake --build --preset fuzz)"
  exit 77
fi
if [[ ! -d $corpus ]]; then
  echo "fuzz/run.sh: no seed corpus $corpus" >&2
  exit 2
fi

# Largest input per target: a few frames or requests; the biggest seeds are well below these.
# The admin target's server threads allocate while an input runs, so libFuzzer's per-input leak
# check (a full LeakSanitizer pass whenever mallocs and frees differ) would run on almost every
# input, at 90 exec/s instead of 500; leaks are still found by LeakSanitizer when the run ends.
per_target=()
case $target in
  admin_http) max_len=8192 per_target=(-detect_leaks=0) ;;
  config) max_len=8192 ;;
  codec) max_len=4096 ;;
  *) max_len=16384 ;;
esac

scratch=$(mktemp -d "${TMPDIR:-/tmp}/sealcast-fuzz-$target.XXXXXX")
mkdir "$scratch/corpus" "$scratch/tmp"
cp -R "$corpus/." "$scratch/corpus/"
flags=(-max_total_time="$seconds" -max_len="$max_len" -timeout=60 -rss_limit_mb=2560 -print_final_stats=1
       -artifact_prefix="$scratch/" "${per_target[@]}")
if [[ -f $root/fuzz/dict/$target.dict ]]; then flags+=(-dict="$root/fuzz/dict/$target.dict"); fi

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:strict_string_checks=1:check_initialization_order=1:strict_init_order=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export TMPDIR=$scratch/tmp  # the admin target's store

echo "fuzz/run.sh: $target for ${seconds}s on $(ls "$scratch/corpus" | wc -l) seeds (log: $scratch/log)"
(cd "$scratch" && "$bin" "${flags[@]}" "$@" "$scratch/corpus") >"$scratch/log" 2>&1
rc=$?

runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$scratch/log" | tail -1)
rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$scratch/log" | tail -1)
cov=$(grep -Eo 'cov: [0-9]+ ft: [0-9]+ corp: [0-9]+/[0-9]+[a-zA-Z]*' "$scratch/log" | tail -1)
if [[ $rc -eq 0 ]]; then
  echo "fuzz/run.sh: $target ok: ${runs:-?} executions, ${rate:-?} exec/s, $cov"
  if [[ ${FUZZ_KEEP:-0} != 1 ]]; then rm -rf "$scratch"; fi
  exit 0
fi
echo "fuzz/run.sh: $target FAILED (exit $rc) after ${runs:-?} executions; last lines of $scratch/log:"
grep -v '^#[0-9]' "$scratch/log" | tail -60
for f in "$scratch"/crash-* "$scratch"/leak-* "$scratch"/timeout-* "$scratch"/oom-*; do
  [[ -e $f ]] && echo "fuzz/run.sh: input kept in $f (replay: $bin $f)"
done
exit 1
