#!/usr/bin/env bash
# Runs one libFuzzer target of tests/fuzz (ctest calls it; see CMakeLists.txt):
#
#   run_fuzzer.sh --replay FUZZER DIR...   every file in the DIRs once (the
#                                          committed corpus: seeds and the
#                                          reproducers of fixed crashes)
#   run_fuzzer.sh --fuzz FUZZER DIR...     fuzzes for $SOP_FUZZ_SECONDS
#                                          (default 60) from the DIRs, which
#                                          it never writes to
#
# --fuzz grows its corpus in $SOP_FUZZ_CORPUS_OUT (default: a temporary
# directory, removed after), keeps crash reproducers in $SOP_FUZZ_ARTIFACTS
# (default ./fuzz-artifacts) and ends with one line of figures:
#   fuzz NAME: seconds=… execs=… exec/s=… cov=… ft=… corpus=UNITS/SIZE new=…
#              peak_rss_mb=… crashes=…
# Exits non-zero when the fuzzer finds a crash, a leak, a sanitizer report,
# a timeout or an out-of-memory.
set -euo pipefail
source "$(dirname "$0")/sanitizer_options.sh"

mode="${1:-}"
fuzzer="${2:-}"
if [[ $mode != --replay && $mode != --fuzz || ! -x $fuzzer ]]; then
  echo "usage: run_fuzzer.sh --replay|--fuzz FUZZER DIR..." >&2
  exit 2
fi
shift 2
name="$(basename "$fuzzer")"
for dir in "$@"; do
  [[ -d $dir ]] || { echo "run_fuzzer.sh: corpus directory $dir does not exist" >&2; exit 2; }
done

if [[ $mode == --replay ]]; then
  mapfile -t inputs < <(find "$@" -maxdepth 1 -type f ! -name '.*' | sort)
  if ((${#inputs[@]} == 0)); then
    echo "run_fuzzer.sh: no inputs in $*" >&2
    exit 1
  fi
  "$fuzzer" "${inputs[@]}"
  echo "fuzz $name: replayed ${#inputs[@]} inputs, no failure"
  exit 0
fi

seconds="${SOP_FUZZ_SECONDS:-60}"
artifacts="${SOP_FUZZ_ARTIFACTS:-$PWD/fuzz-artifacts}"
mkdir -p "$artifacts"
if [[ -n ${SOP_FUZZ_CORPUS_OUT:-} ]]; then
  corpus="$SOP_FUZZ_CORPUS_OUT"
  mkdir -p "$corpus"
else
  corpus="$(mktemp -d)"
fi
log="$(mktemp)"
started="$(mktemp)"
trap 'rm -f "$log" "$started"; [[ -n ${SOP_FUZZ_CORPUS_OUT:-} ]] || rm -rf "$corpus"' EXIT

status=0
# -timeout: an input that takes 10 s is a hang. -rss_limit_mb: a leak or a
# blow-up is reported long before the machine suffers.
"$fuzzer" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2560 -print_final_stats=1 \
  -artifact_prefix="$artifacts/$name-" "$corpus" "$@" 2>"$log" || status=$?
# libFuzzer's progress lines are many; the last ones and any report are what
# a reader needs.
grep -v -e '^#[0-9]*\s*\(NEW\|REDUCE\|pulse\)' -e 'NEW_FUNC' "$log" | tail -n 60 >&2

last="$(grep -E '^#[0-9]+' "$log" | tail -n 1 || true)"
field() { sed -n "s/.*$1: *\([0-9a-zA-Z/]*\).*/\1/p" <<<"$last"; }
stat() { sed -n "s/^stat::$1: *//p" "$log"; }
crashes="$(find "$artifacts" -maxdepth 1 -newer "$started" \( -name "$name-crash-*" -o -name "$name-leak-*" \
  -o -name "$name-timeout-*" -o -name "$name-oom-*" \) | wc -l)"
echo "fuzz $name: seconds=$seconds execs=$(stat number_of_executed_units)" \
  "exec/s=$(stat average_exec_per_sec) cov=$(field cov) ft=$(field ft)" \
  "corpus=$(field corp) new=$(stat new_units_added)" \
  "peak_rss_mb=$(stat peak_rss_mb) crashes=$crashes"
if ((status != 0)); then
  echo "fuzz $name FAILED (exit $status): reproducer(s) in $artifacts/$name-*;" \
    "replay with: $fuzzer FILE" >&2
fi
exit "$status"
