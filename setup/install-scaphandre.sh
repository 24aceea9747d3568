#!/usr/bin/env bash
# Builds Scaphandre (the energy exporter) from the Rust crate registry with `cargo install`, into a
# cache outside the repository, and prints the binary's path as its last line. No Debian package
# exists; the scaphandre Ansible role copies this binary to hosts that lack one. A no-op when the
# cached binary is there, answers --version and suits this kernel (see "patch" below).
#   setup/install-scaphandre.sh                 version 1.0.0, the Prometheus exporter (no Riemann, Warp10, ...)
#   setup/install-scaphandre.sh --version X.Y.Z another release on the crate registry
#   setup/install-scaphandre.sh --force         build again
# Cache: $GREENRACE_CACHE (default ${XDG_CACHE_HOME:-~/.cache}/greenrace)/scaphandre-<version>/bin/scaphandre
#
# Features: the crate's defaults pull in Riemann, Warp10, the Pushgateway client (isahc, curl) and
# the Docker/Kubernetes label sync; greenrace needs the `prometheus` exporter (hyper + tokio) and
# `json` (serde_json): the stdout exporter, compiled in every build, calls serde_json, so 1.0.0 does
# not compile with `--features prometheus` alone. `--vm` (read a powercap-like tree from
# $SCAPHANDRE_POWERCAP_PATH, default /var/scaphandre) is a flag of the powercap_rapl sensor in every
# build: it needs no feature (`qemu` is the hypervisor side that writes such trees).
# The crate's Cargo.lock pins time 0.3.20, which no longer compiles with Rust >= 1.80, so the build
# resolves current compatible versions (no --locked); the versions compiled are listed in
# <cache>/scaphandre-<version>/dependencies.txt.
#
# Patch: Scaphandre 1.0.0 reads /proc/modules at start (PowercapRAPLSensor::check_module) and
# panics when the file is absent, i.e. on kernels built without module support (CONFIG_MODULES=n,
# e.g. Firecracker microVMs), even in --vm mode where the result is ignored. On such a kernel only,
# the crate's source is taken from the registry and that one read is made to return "no module
# information" instead of panicking (a warning, as when the modules are missing); everything else is
# the released code. <cache>/scaphandre-<version>/PATCHED says so.
set -euo pipefail
version="1.0.0"
force=0
while [ $# -gt 0 ]; do
  case "$1" in
    --version) version="${2:-}"; shift 2 ;;
    --version=*) version="${1#--version=}"; shift ;;
    --force) force=1; shift ;;
    -h|--help) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "setup/install-scaphandre.sh: unknown argument '$1' (allowed: --version X.Y.Z, --force)" >&2; exit 2 ;;
  esac
done
if ! [[ "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]]; then
  echo "setup/install-scaphandre.sh: --version must look like 1.0.0, got '$version'" >&2
  exit 2
fi
cache="${GREENRACE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/greenrace}"
root="$cache/scaphandre-$version"
bin="$root/bin/scaphandre"
patch_needed=0
[ -e /proc/modules ] || patch_needed=1
mkdir -p "$cache"
exec 9>"$cache/.install-scaphandre.lock"
flock 9   # two callers at once wait instead of building twice

is_patched() { [ -f "$root/PATCHED" ]; }
if [ "$force" -eq 0 ] && [ -x "$bin" ] && "$bin" --version 2>/dev/null | grep -qF "$version" \
   && { [ "$patch_needed" -eq 0 ] || is_patched; }; then
  echo "scaphandre: cached ($("$bin" --version)$(is_patched && echo ', patched: no /proc/modules on this kernel'), $bin)"
  echo "$bin"
  exit 0
fi
if ! command -v cargo >/dev/null 2>&1; then
  echo "setup/install-scaphandre.sh: cargo not found; install Rust (https://rustup.rs or Debian's cargo) and run again" >&2
  exit 2
fi
features=(--no-default-features --features prometheus,json)
t0=$(date +%s)
log="$(mktemp /tmp/greenrace-scaphandre-build.XXXXXX.log)"
work="$(mktemp -d "$cache/.scaphandre-src.XXXXXX")"
trap 'rm -rf "$work"' EXIT
if [ "$patch_needed" -eq 1 ]; then
  echo "scaphandre: building $version from the crate registry, patched (this kernel has no /proc/modules), features prometheus,json; this takes minutes"
  # The released source, as cargo downloads it: a throwaway package depending on it, then `cargo fetch`.
  mkdir -p "$work/fetch/src"
  printf '[package]\nname = "greenrace-scaphandre-fetch"\nversion = "0.0.0"\nedition = "2021"\n\n[dependencies]\nscaphandre = { version = "=%s", default-features = false }\n' "$version" > "$work/fetch/Cargo.toml"
  : > "$work/fetch/src/lib.rs"
  if ! cargo fetch --manifest-path "$work/fetch/Cargo.toml" >"$log" 2>&1; then
    echo "setup/install-scaphandre.sh: cargo could not fetch scaphandre $version; the last lines of $log:" >&2
    tail -n 15 "$log" >&2
    exit 1
  fi
  crate="$(ls "${CARGO_HOME:-$HOME/.cargo}"/registry/cache/*/"scaphandre-$version.crate" 2>/dev/null | head -n1)"
  [ -n "$crate" ] || { echo "setup/install-scaphandre.sh: scaphandre-$version.crate not in cargo's registry cache after the fetch" >&2; exit 1; }
  tar -xzf "$crate" -C "$work"
  src="$work/scaphandre-$version"
  f="$src/src/sensors/powercap_rapl.rs"
  old='let modules = modules().unwrap();'
  new='let modules = match modules() { Ok(m) => m, Err(e) => return Err(format!("cannot read the kernel modules list: {e}")) };'
  if [ "$(grep -cF "$old" "$f")" != 1 ]; then
    echo "setup/install-scaphandre.sh: $f does not have the expected /proc/modules read; the patch is for 1.0.0" >&2
    exit 1
  fi
  sed -i "s|$old|$new|" "$f"
  what=(--path "$src")
else
  echo "scaphandre: building $version from the crate registry (cargo install, features prometheus,json; this takes minutes)"
  what=(scaphandre --version "=$version")
fi
# A private target dir next to the cache, so an interrupted build resumes where it stopped.
if ! nice -n 19 cargo install "${what[@]}" "${features[@]}" --root "$root" --target-dir "$cache/scaphandre-build" --force >>"$log" 2>&1; then
  echo "setup/install-scaphandre.sh: cargo install failed; the last lines of $log:" >&2
  tail -n 25 "$log" >&2
  exit 1
fi
secs=$(( $(date +%s) - t0 ))
"$bin" --version >/dev/null
# The versions cargo resolved (no lock file is used), for the record.
grep -E '^\s+Compiling ' "$log" | sed -E 's/^\s+Compiling //' | sort > "$root/dependencies.txt" || true
if [ "$patch_needed" -eq 1 ]; then
  printf 'scaphandre %s from the crate registry, patched on %s because this kernel has no /proc/modules:\n  src/sensors/powercap_rapl.rs: %s\n  -> %s\n' \
    "$version" "$(date -u +%FT%TZ)" "$old" "$new" > "$root/PATCHED"
else
  rm -f "$root/PATCHED"
fi
rm -rf "$cache/scaphandre-build" "$log"
echo "scaphandre: built $("$bin" --version)$(is_patched && echo ' (patched: no /proc/modules)') in ${secs} s ($(wc -l < "$root/dependencies.txt") crates compiled, listed in $root/dependencies.txt)"
echo "$bin"
