#!/bin/bash
# Makes Debian packages from the non-free component installable ONE BY ONE: adds non-free for this
# release from the mirror the system already uses for main, and pins every non-free package to
# priority -1 except the ones named (500), so nothing else ever comes from non-free. Idempotent.
#   apt-non-free-only.sh netperf [PKG...]
# Prints one of:
#   unchanged              the named packages already have an install candidate (no file touched)
#   changed                the source and pin files were written (apt-get update was run)
#   not-debian <id>        not Debian: nothing done (e.g. Ubuntu has netperf in multiverse)
# Exits 1 with a message when the packages still have no candidate afterwards.
# Files: /etc/apt/sources.list.d/greenrace-non-free.sources, /etc/apt/preferences.d/greenrace-non-free
set -euo pipefail
[ $# -gt 0 ] || { echo "usage: $0 PACKAGE..." >&2; exit 2; }
pkgs=("$@")
sources=/etc/apt/sources.list.d/greenrace-non-free.sources
pin=/etc/apt/preferences.d/greenrace-non-free

has_candidate() {
  local c
  c="$(apt-cache policy "$1" 2>/dev/null | sed -n 's/^ *Candidate: *//p')"
  [ -n "$c" ] && [ "$c" != "(none)" ]
}
all_available() {
  local p
  for p in "${pkgs[@]}"; do has_candidate "$p" || return 1; done
}

if all_available && [ ! -f "$sources" ]; then
  # Available without us (the system's own sources carry them): nothing to add.
  echo unchanged
  exit 0
fi
# The pin file keeps the packages pinned in before plus the ones asked for now.
want=("${pkgs[@]}")
if [ -f "$pin" ]; then
  mapfile -t -O "${#want[@]}" want < <(sed -n 's/^Package: *\([a-z0-9][a-z0-9+.-]*\)$/\1/p' "$pin")
fi
mapfile -t want < <(printf '%s\n' "${want[@]}" | sort -u)

# shellcheck disable=SC1091
. /etc/os-release
if [ "${ID:-}" != debian ]; then
  echo "not-debian ${ID:-unknown}"
  exit 0
fi
codename="${VERSION_CODENAME:-}"
[ -n "$codename" ] || { echo "$0: no VERSION_CODENAME in /etc/os-release" >&2; exit 1; }

# The mirror already used for main on this release (deb822 .sources files, then one-line lists).
mirror=""
for f in /etc/apt/sources.list.d/*.sources; do
  [ -f "$f" ] && [ "$f" != "$sources" ] || continue
  mirror="$(awk -v suite="$codename" '
    BEGIN { RS=""; FS="\n" }
    {
      uris=""; suites=""; comps=""; types=""
      for (i = 1; i <= NF; i++) {
        if ($i ~ /^URIs:/) { uris=$i; sub(/^URIs:[ \t]*/, "", uris) }
        if ($i ~ /^Suites:/) { suites=" " $i " "; sub(/^ Suites:/, "", suites) }
        if ($i ~ /^Components:/) { comps=" " $i " " }
        if ($i ~ /^Types:/) { types=$i }
      }
      if (types ~ /deb( |$)/ && suites ~ (" " suite " ") && comps ~ / main / && uris != "") { split(uris, u, " "); print u[1]; exit }
    }' "$f")"
  [ -n "$mirror" ] && break
done
if [ -z "$mirror" ]; then
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] || continue
    mirror="$(awk -v suite="$codename" '$1 == "deb" { n = 2; if ($2 ~ /^\[/) { while ($n !~ /\]$/) n++; n++ } if ($(n + 1) == suite) { for (i = n + 2; i <= NF; i++) if ($i == "main") { print $n; exit } } }' "$f")"
    [ -n "$mirror" ] && break
  done
fi
[ -n "$mirror" ] || { echo "$0: no apt source for Debian $codename main found; add one, or install ${pkgs[*]} by hand" >&2; exit 1; }
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
[ -f "$keyring" ] || { echo "$0: $keyring missing (package debian-archive-keyring)" >&2; exit 1; }

src_text="# Written by greenrace (ansible/roles/net_tools/files/apt-non-free-only.sh): Debian non-free, for
# the packages named in $pin only (every other non-free package is pinned to -1).
Types: deb
URIs: $mirror
Suites: $codename
Components: non-free
Signed-By: $keyring
"
pin_text="# Written by greenrace: nothing comes from Debian non-free except the packages below.
"
for p in "${want[@]}"; do
  pin_text+="
Package: $p
Pin: release o=Debian,c=non-free
Pin-Priority: 500
"
done
pin_text+="
Package: *
Pin: release o=Debian,c=non-free
Pin-Priority: -1
"
changed=0
if [ ! -f "$sources" ] || [ "$(cat "$sources")" != "$(printf '%s' "$src_text")" ]; then
  printf '%s' "$src_text" > "$sources.tmp" && mv "$sources.tmp" "$sources"; changed=1
fi
if [ ! -f "$pin" ] || [ "$(cat "$pin")" != "$(printf '%s' "$pin_text")" ]; then
  printf '%s' "$pin_text" > "$pin.tmp" && mv "$pin.tmp" "$pin"; changed=1
fi
if [ "$changed" = 1 ] || ! all_available; then
  apt-get update -qq -o Dir::Etc::sourcelist="$sources" -o Dir::Etc::sourceparts=- -o APT::Get::List-Cleanup=0 >/dev/null
fi
missing=()
for p in "${pkgs[@]}"; do has_candidate "$p" || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  echo "$0: ${missing[*]}: still no install candidate from $mirror $codename non-free" >&2
  exit 1
fi
if [ "$changed" = 1 ]; then echo changed; else echo unchanged; fi
