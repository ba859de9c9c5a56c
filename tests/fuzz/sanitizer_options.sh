# The sanitizer runtime options of the ASan + UBSan build (build-asan), for
# its tests and fuzzers: sourced by scripts/test and tests/fuzz/run_fuzzer.sh.
# Options already in the environment win (e.g. ASAN_OPTIONS=... to try one).
#
# halt_on_error / abort_on_error: the first report fails the test.
# detect_leaks: LeakSanitizer works on this machine kind (checked: a leak in
#   a test binary is reported and fails it).
# print_stacktrace (UBSan): a report names the caller, not just the line.
# ASAN's symbolizer is llvm-symbolizer (llvm-14), found on PATH.
_sop_sanitizer_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export ASAN_OPTIONS="${ASAN_OPTIONS:-halt_on_error=1:abort_on_error=1:detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1:check_initialization_order=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-halt_on_error=1:abort_on_error=1:print_stacktrace=1}"
export LSAN_OPTIONS="${LSAN_OPTIONS:-suppressions=$_sop_sanitizer_dir/lsan.supp:print_suppressions=0}"
unset _sop_sanitizer_dir
