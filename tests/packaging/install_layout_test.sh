#!/usr/bin/env bash
# install_layout: `cmake --install` puts sopd, sopctl, the panel bundle, the
# example SOPs, the docs, the hardened systemd unit and the default
# configuration where docs/OPERATIONS.md (Install) says, with the right
# modes; the unit passes `systemd-analyze verify` and its offline security
# review scores at most MAX_EXPOSURE (systemd's scale: 0 best, 10 worst).
#
# usage: install_layout_test.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$(realpath "$1")
source=$(realpath "$2")
MAX_EXPOSURE=2.0

stage=$(mktemp -d /tmp/sop-install-layout.XXXXXX)
trap 'rm -rf "$stage"' EXIT
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }

# expect PATH MODE: PATH (under the stage) exists with octal MODE.
expect() {
  local path=$stage$1 mode=$2
  if [[ ! -e $path ]]; then fail "$1 is missing"; return; fi
  local actual
  actual=$(stat -c %a "$path")
  [[ $actual == "$mode" ]] || fail "$1 has mode $actual, expected $mode"
  echo "ok: $1 ($actual)"
}

start=$(date +%s%N)
DESTDIR=$stage cmake --install "$build" --prefix /usr >"$stage.log" 2>&1 ||
  { cat "$stage.log" >&2; rm -f "$stage.log"; fail "cmake --install failed"; exit 1; }
rm -f "$stage.log"
echo "install_layout: cmake --install took $((($(date +%s%N) - start) / 1000000)) ms," \
  "$(find "$stage" -type f | wc -l) files"

expect /usr/bin/sopd 755
expect /usr/bin/sopctl 755
expect /usr/share/sopsidebar/web/panel/sop-panel.js 644
expect /usr/share/sopsidebar/web/console/index.html 644
expect /usr/share/sopsidebar/web/panel/sop-mermaid.js 644
expect /usr/share/doc/sopsidebar/OPERATIONS.md 644
expect /usr/lib/systemd/system/sopd.service 644
expect /etc/sopsidebar/sopd.yaml 644
shipped=$(find "$source/examples/sops" -maxdepth 1 -name '*.yaml' | wc -l)
installed=$(find "$stage/usr/share/sopsidebar/examples" -maxdepth 1 -name '*.yaml' | wc -l)
[[ $shipped -gt 0 && $installed == "$shipped" ]] ||
  fail "share/sopsidebar/examples holds $installed SOP files, examples/sops $shipped"
echo "ok: /usr/share/sopsidebar/examples ($installed SOP files)"

# The generated files name the install prefix.
unit=$stage/usr/lib/systemd/system/sopd.service
grep -qx 'ExecStart=/usr/bin/sopd --config /etc/sopsidebar/sopd.yaml' "$unit" ||
  fail "sopd.service's ExecStart is not /usr/bin/sopd --config /etc/sopsidebar/sopd.yaml"
grep -qx 'http_static_dir: /usr/share/sopsidebar/web' "$stage/etc/sopsidebar/sopd.yaml" ||
  fail "sopd.yaml's http_static_dir is not /usr/share/sopsidebar/web"
if grep -q '@SOP_' "$unit" "$stage/etc/sopsidebar/sopd.yaml"; then
  fail "a @SOP_…@ placeholder is left in the unit or the configuration"
fi
"$stage/usr/bin/sopd" --version | grep -q '^sopd ' || fail "the installed sopd does not run"

# The hardening the unit must keep (docs/OPERATIONS.md, Deploy).
for setting in User=sopd NoNewPrivileges=yes ProtectSystem=strict ReadWritePaths=/var/lib/sopd \
  PrivateTmp=yes ProtectHome=yes CapabilityBoundingSet= StateDirectoryMode=0700; do
  grep -qx "$setting" "$unit" || fail "sopd.service lacks $setting"
done

# systemd 252 checks a unit without a running systemd; its ExecStart must
# exist, so the copy checked runs the staged sopd. A warning (an unknown key,
# a value it ignores) fails the test as an error does.
mkdir "$stage/verify"
sed "s|^ExecStart=/usr/bin/sopd|ExecStart=$stage/usr/bin/sopd|" "$unit" \
  >"$stage/verify/sopd.service"
if verify=$(systemd-analyze verify "$stage/verify/sopd.service" 2>&1) && [[ -z $verify ]]; then
  echo "ok: systemd-analyze verify sopd.service: no warnings"
else
  fail "systemd-analyze verify: $verify"
fi
security=$(systemd-analyze security --offline=true --root="$stage" \
  /usr/lib/systemd/system/sopd.service 2>&1 || true)
exposure=$(sed -n 's/.*Overall exposure level for sopd.service: \([0-9.]*\).*/\1/p' <<<"$security")
if [[ -z $exposure ]]; then
  fail "systemd-analyze security printed no exposure level: $security"
else
  echo "install_layout: systemd-analyze security exposure=$exposure (at most $MAX_EXPOSURE)"
  if awk -v e="$exposure" -v m="$MAX_EXPOSURE" 'BEGIN { exit !(e > m) }'; then
    grep '✗' <<<"$security" >&2 || true
    fail "sopd.service's exposure $exposure is above $MAX_EXPOSURE"
  fi
fi

if ((failures)); then
  echo "install_layout: $failures failure(s)" >&2
  exit 1
fi
echo "install_layout: ok"
