#!/usr/bin/env bash
# deb_install: the .deb `cpack -G DEB` builds installs and starts on a clean
# Debian 12. In a fresh copy of a minimal Debian 12 root (debootstrap
# --variant=minbase bookworm, cached outside the clone): dpkg -i the
# package, apt-get -f install its dependencies, start sopd exactly as the
# unit's ExecStart does, as its User, in a network namespace of its own (the
# default configuration's ports are then free whatever else runs), check
# that it answers sopctl and serves the panel, and that every file is where
# it should be with the right owner and mode; then stop it and purge the
# package. Prints how long each phase took; a cold run (no cache) downloads
# the root and the dependencies once.
#
# usage: deb_install_test.sh BUILD_DIR
# Needs root (chroot, mount, unshare). SOP_DEB_CACHE overrides the cache
# (default /var/cache/sopsidebar/deb-install).
set -euo pipefail
build=$(realpath "$1")
if [[ $(id -u) -ne 0 ]]; then
  echo "deb_install: needs root (chroot, mount, unshare); skipped" >&2
  exit 77
fi

MIRROR=http://deb.debian.org/debian
DEBOOTSTRAP_ARGS=(--variant=minbase bookworm)
cache=${SOP_DEB_CACHE:-/var/cache/sopsidebar/deb-install}
# The cached root is keyed by what made it: the debootstrap arguments, the
# mirror and the package lists fetched into it.
key=$(printf '%s\n' "${DEBOOTSTRAP_ARGS[@]}" "$MIRROR" "apt-get update" | sha256sum | cut -c1-16)
base=$cache/$key/root
archives=$cache/$key/archives  # the dependencies' .debs, kept between runs

now_ms() { echo $(($(date +%s%N) / 1000000)); }
t_start=$(now_ms)
work=$(mktemp -d /tmp/sop-deb-install.XXXXXX)
root=$work/root
cleanup() {
  if [[ -n ${sopd_pid:-} ]]; then kill -KILL "$sopd_pid" 2>/dev/null || true; fi
  mountpoint -q "$root/proc" 2>/dev/null && umount "$root/proc"
  mountpoint -q "$base.tmp/proc" 2>/dev/null && umount "$base.tmp/proc"
  rm -rf "$work"
}
trap cleanup EXIT

failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
in_root() { chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin "$@"; }
# expect PATH OWNER:GROUP MODE: in the root (owners by the root's names).
expect() {
  local actual
  if ! actual=$(in_root stat -c '%U:%G %a' "$1" 2>/dev/null); then
    fail "$1 is missing"
    return
  fi
  if [[ $actual != "$2 $3" ]]; then
    fail "$1 is $actual, expected $2 $3"
    return
  fi
  echo "ok: $1 ($actual)"
}

# 1. The package.
t=$(now_ms)
cpack -G DEB --config "$build/CPackConfig.cmake" -B "$work/pkg" >"$work/cpack.log" 2>&1 ||
  { cat "$work/cpack.log" >&2; exit 1; }
deb=$(find "$work/pkg" -maxdepth 1 -name 'sopsidebar_*.deb' | head -1)
[[ -n $deb ]] || { cat "$work/cpack.log" >&2; echo "FAIL: cpack made no .deb" >&2; exit 1; }
cpack_ms=$(($(now_ms) - t))
depends=$(dpkg-deb -f "$deb" Depends)
echo "deb_install: $(basename "$deb"), $(($(stat -c %s "$deb") / 1024)) KiB, Depends: $depends"
for lib in libgrpc++ librocksdb libyaml-cpp libprotobuf libxapian passwd; do
  [[ $depends == *"$lib"* ]] || fail "Depends lacks $lib"
done
dpkg-deb -I "$deb" conffiles | grep -qx /etc/sopsidebar/sopd.yaml ||
  fail "/etc/sopsidebar/sopd.yaml is not a conffile"

# 2. A clean Debian 12 root: built once into the cache (under a lock, so that
# two runs share one), copied fresh for every run.
t=$(now_ms)
cold=no
mkdir -p "$cache/$key"
exec 9>"$cache/$key/lock"
flock 9
if [[ ! -d $base ]]; then
  cold=yes
  rm -rf "$base.tmp"
  echo "deb_install: building the Debian 12 root in $base (once; a few minutes)"
  debootstrap "${DEBOOTSTRAP_ARGS[@]}" "$base.tmp" "$MIRROR" >"$work/debootstrap.log" 2>&1 ||
    { tail -20 "$work/debootstrap.log" >&2; echo "FAIL: debootstrap" >&2; exit 1; }
  cp /etc/resolv.conf "$base.tmp/etc/resolv.conf"
  chroot "$base.tmp" apt-get update -qq >"$work/update.log" 2>&1 ||
    { cat "$work/update.log" >&2; echo "FAIL: apt-get update in the root" >&2; exit 1; }
  chroot "$base.tmp" apt-get clean
  mv "$base.tmp" "$base"
fi
mkdir -p "$archives"
cp -a "$base" "$root"
flock -u 9
cp /etc/resolv.conf "$root/etc/resolv.conf"
root_ms=$(($(now_ms) - t))

# 3. dpkg -i, then its dependencies (from the cache when it has them).
t=$(now_ms)
mount -t proc proc "$root/proc"
cp "$deb" "$root/tmp/sopsidebar.deb"
find "$archives" -name '*.deb' -exec cp -t "$root/var/cache/apt/archives/" {} +
if in_root dpkg -i /tmp/sopsidebar.deb >"$work/dpkg.log" 2>&1; then
  fail "dpkg -i succeeded on a minimal root: the package declares no library dependencies"
fi
in_root DEBIAN_FRONTEND=noninteractive apt-get -f install -y -q --no-install-recommends \
  >"$work/apt.log" 2>&1 || { cat "$work/dpkg.log" "$work/apt.log" >&2; exit 1; }
downloaded=$(grep -c '^Get:' "$work/apt.log" || true)
cp -u "$root"/var/cache/apt/archives/*.deb "$archives/" 2>/dev/null || true
install_ms=$(($(now_ms) - t))
status=$(in_root dpkg-query -W -f='${db:Status-Status}' sopsidebar)
[[ $status == installed ]] || fail "sopsidebar is '$status' after apt-get -f install"
echo "deb_install: installed with $(grep -c '^Setting up' "$work/apt.log") packages set up," \
  "$downloaded downloaded"

# 4. What the package put where.
expect /usr/bin/sopd root:root 755
expect /usr/bin/sopctl root:root 755
expect /etc/sopsidebar/sopd.yaml root:root 644
expect /usr/lib/systemd/system/sopd.service root:root 644
expect /usr/share/sopsidebar/web/panel/sop-panel.js root:root 644
expect /usr/share/sopsidebar/examples root:root 755
expect /var/lib/sopd sopd:sopd 700
passwd=$(in_root getent passwd sopd) || fail "postinst made no sopd user"
IFS=: read -r _ _ uid _ _ home shell <<<"${passwd:-x:x:0:x:x:x:x}"
((uid > 0 && uid < 1000)) || fail "sopd's uid $uid is not a system uid"
[[ $shell == /usr/sbin/nologin && $home == /var/lib/sopd ]] ||
  fail "sopd's home/shell are $home $shell"
echo "ok: user sopd uid=$uid home=$home shell=$shell"
in_root dpkg-query -W -f='${Conffiles}\n' sopsidebar | grep -q '/etc/sopsidebar/sopd.yaml' ||
  fail "dpkg does not list /etc/sopsidebar/sopd.yaml as a conffile"
# Enabled as dh_installsystemd would (deb-systemd-helper; systemd does not
# run here, so nothing is started).
wants=/etc/systemd/system/multi-user.target.wants/sopd.service
if [[ $(readlink "$root$wants") == */systemd/system/sopd.service ]]; then
  echo "ok: enabled ($wants)"
else
  fail "postinst did not enable sopd.service ($wants)"
fi

# 5. sopd started as the unit starts it: its ExecStart, User, Group,
# WorkingDirectory and UMask, without privileges.
unit=$root/usr/lib/systemd/system/sopd.service
setting() { sed -n "s/^$1=//p" "$unit" | tail -1; }
exec_start=$(setting ExecStart)
user=$(setting User)
group=$(setting Group)
workdir=$(setting WorkingDirectory)
umask_value=$(setting UMask)
echo "deb_install: starting '$exec_start' as $user:$group in a network namespace of its own"
t=$(now_ms)
export root exec_start user group workdir umask_value
# At most 2 minutes: sopd must start, answer and stop on SIGTERM by then.
timeout 120 unshare --net bash -c '
  set -euo pipefail
  ip link set lo up
  chroot "$root" /usr/bin/setpriv --reuid="$user" --regid="$group" --init-groups \
    --inh-caps=-all --bounding-set=-all --no-new-privs \
    /usr/bin/env -i PATH=/usr/bin:/bin HOME="$workdir" \
    /bin/sh -c "cd $workdir && umask $umask_value && exec $exec_start" 2>"$root/tmp/sopd.log" &
  pid=$!
  for _ in $(seq 150); do
    grep -q "listening on" "$root/tmp/sopd.log" && break
    kill -0 $pid 2>/dev/null || break
    sleep 0.1
  done
  if ! grep -q "listening on" "$root/tmp/sopd.log"; then
    echo "sopd did not start:"
    cat "$root/tmp/sopd.log"
    exit 1
  fi
  date +%s%N >"$root/tmp/started"
  chroot "$root" /usr/bin/sopctl --token-file /var/lib/sopd/admin.token whoami \
    >"$root/tmp/whoami" 2>&1 || true
  curl -s -o /dev/null -w "%{http_code}" http://127.0.0.1:8080/panel/sop-panel.js \
    >"$root/tmp/panel" || true
  ps -o uid=,gid= -p $pid >"$root/tmp/ps" || true
  kill -TERM $pid
  wait $pid
' >"$work/run.log" 2>&1 ||
  { cat "$work/run.log" "$root/tmp/sopd.log" >&2; fail "sopd did not run"; }
start_ms=$((($(cat "$root/tmp/started" 2>/dev/null || date +%s%N) / 1000000) - t))
sed 's/^/  sopd: /' "$root/tmp/sopd.log"
sed 's/^/  sopctl whoami: /' "$root/tmp/whoami" 2>/dev/null || true
grep -q "listening on 127.0.0.1:50051" "$root/tmp/sopd.log" ||
  fail "sopd did not listen on the default configuration's 127.0.0.1:50051"
grep -q "data_dir=/var/lib/sopd" "$root/tmp/sopd.log" || fail "sopd's data dir is not /var/lib/sopd"
grep -Eq "^Server admin: +yes" "$root/tmp/whoami" 2>/dev/null ||
  fail "sopctl whoami did not answer as the server admin"
[[ $(cat "$root/tmp/panel" 2>/dev/null) == 200 ]] ||
  fail "the gateway did not serve /panel/sop-panel.js (HTTP $(cat "$root/tmp/panel" 2>/dev/null))"
ran_as=$(xargs <"$root/tmp/ps" 2>/dev/null || true)
[[ $ran_as == "$(in_root id -u sopd) $(in_root id -g sopd)" ]] ||
  fail "sopd ran as uid/gid '$ran_as', not as sopd"
echo "ok: sopd ran as sopd (uid/gid $ran_as), answered sopctl whoami, served the panel (HTTP 200)"
grep -q "sopd: stopped" "$root/tmp/sopd.log" || fail "sopd did not stop cleanly on SIGTERM"
expect /var/lib/sopd/db sopd:sopd 700
expect /var/lib/sopd/admin.token sopd:sopd 600

# 6. Purge: the package's files go, the data (SOP history, audit trail) stays.
t=$(now_ms)
in_root dpkg --purge sopsidebar >"$work/purge.log" 2>&1 ||
  { cat "$work/purge.log" >&2; fail "purge failed"; }
purge_ms=$(($(now_ms) - t))
for gone in /usr/bin/sopd /usr/bin/sopctl /etc/sopsidebar/sopd.yaml \
  /usr/lib/systemd/system/sopd.service /usr/share/sopsidebar "$wants"; do
  [[ ! -e $root$gone && ! -L $root$gone ]] || fail "$gone is left after purge"
done
[[ -d $root/var/lib/sopd/db ]] || fail "purge deleted the data dir /var/lib/sopd"
echo "ok: purged; /var/lib/sopd kept"

echo "deb_install: cold=$cold cpack_ms=$cpack_ms root_ms=$root_ms install_ms=$install_ms" \
  "start_ms=$start_ms purge_ms=$purge_ms total_ms=$(($(now_ms) - t_start))"
if ((failures)); then
  echo "deb_install: $failures failure(s)" >&2
  exit 1
fi
echo "deb_install: ok"
