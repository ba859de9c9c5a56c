#!/usr/bin/env bash
# Runs one of the Python tests under `bazel test` with the environment ctest
# gives it (tests/CMakeLists.txt): run_python_test.sh TEST.py [NAME=PATH...],
# each PATH relative to the runfiles tree (the working directory) and exported
# as an absolute path. Debian's python3-grpcio needs /usr/bin/python3.
set -euo pipefail
test_script="$1"
shift
for assignment in "$@"; do
  export "${assignment%%=*}=$PWD/${assignment#*=}"
done
exec /usr/bin/python3 "$test_script" -v
