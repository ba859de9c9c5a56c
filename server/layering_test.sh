#!/usr/bin/env bash
# layering_test.sh DEPS_FILE LABEL...: fails if DEPS_FILE (a genquery result,
# one label a line) lists any LABEL.
set -euo pipefail
deps_file="$1"
shift
status=0
for label in "$@"; do
  if grep -qxF "$label" "$deps_file"; then
    echo "LAYERING: the domain depends on $label (see server/BUILD.bazel)" >&2
    status=1
  fi
done
if ! grep -qxF "//common/model:sop_model" "$deps_file"; then
  echo "LAYERING: $deps_file does not list the domain itself" >&2
  status=1
fi
exit "$status"
