#!/usr/bin/env bash
# Resolves Apache Kafka (broker + tools), log4j2 and the Prometheus JMX exporter java agent from Maven
# Central into setup/kafka/libs/ (classpath jars) and setup/kafka/libs/agent/ (the java agent).
# Idempotent: when libs/ already holds this pom's resolution it returns at once without running Maven.
#   setup/install-kafka.sh                  the version pinned in setup/kafka/pom.xml
#   setup/install-kafka.sh --version 4.1.1  another Kafka 4.x version (replaces the libs)
#   setup/install-kafka.sh --force          resolve again
# The last line printed is the absolute libs directory.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
kdir="$here/kafka"
libs="$kdir/libs"
pom="$kdir/pom.xml"
version=""
force=0
while [ $# -gt 0 ]; do
  case "$1" in
    --version) version="${2:-}"; shift 2 ;;
    --version=*) version="${1#--version=}"; shift ;;
    --force) force=1; shift ;;
    -h|--help) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "setup/install-kafka.sh: unknown argument '$1' (allowed: --version X.Y.Z, --force)" >&2; exit 2 ;;
  esac
done
if [ -z "$version" ]; then
  version="$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$pom" | head -n1)"
fi
if ! [[ "$version" =~ ^4\.[0-9]+\.[0-9]+$ ]]; then
  echo "setup/install-kafka.sh: --version must be a Kafka 4.x release like 4.3.1, got '$version'" >&2
  exit 2
fi
command -v mvn >/dev/null || { echo "setup/install-kafka.sh: mvn not found (run setup/install-system.sh)" >&2; exit 2; }
command -v java >/dev/null || { echo "setup/install-kafka.sh: java not found (run setup/install-system.sh)" >&2; exit 2; }

# The stamp ties libs/ to the exact pom content and version it was resolved from.
stamp="$(printf '%s\n' "$version" | cat - "$pom" | sha256sum | cut -c1-16)"
exec 9>/tmp/greenrace-install-kafka.lock
flock 9   # two callers at once (tests, helpers) wait instead of racing on libs/

if [ "$force" -eq 0 ] && [ -f "$libs/.stamp" ] && [ "$(cat "$libs/.stamp")" = "$stamp" ] \
   && ls "$libs"/kafka_2.13-"$version".jar "$libs"/agent/jmx_prometheus_javaagent*.jar >/dev/null 2>&1; then
  n=$(find "$libs" -maxdepth 1 -name '*.jar' | wc -l)
  echo "kafka libs: up to date (Kafka $version, $n jars + JMX exporter agent)"
  echo "$libs"
  exit 0
fi

t0=$(date +%s.%N)
tmp="$(mktemp -d "$kdir/.libs.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
echo "kafka libs: resolving Kafka $version from Maven Central (mvn dependency:copy-dependencies)"
if ! mvn -q -B -f "$pom" -Dkafka.version="$version" dependency:copy-dependencies \
      -DincludeScope=runtime -DoutputDirectory="$tmp" >"$tmp.mvn.log" 2>&1; then
  echo "setup/install-kafka.sh: Maven could not resolve Kafka $version; last lines of its output:" >&2
  tail -n 20 "$tmp.mvn.log" >&2
  rm -f "$tmp.mvn.log"
  exit 1
fi
rm -f "$tmp.mvn.log"
mkdir -p "$tmp/agent"
mv "$tmp"/jmx_prometheus_javaagent-*.jar "$tmp/agent/"
# Sanity: exactly one slf4j-api, the 1.7 line the log4j-slf4j-impl binding needs.
slf=( "$tmp"/slf4j-api-*.jar )
if [ "${#slf[@]}" -ne 1 ] || [[ "$(basename "${slf[0]}")" != slf4j-api-1.7.* ]]; then
  echo "setup/install-kafka.sh: unexpected slf4j-api resolution: ${slf[*]##*/}" >&2
  exit 1
fi
printf '%s\n' "$version" >"$tmp/VERSION"
printf '%s\n' "$stamp" >"$tmp/.stamp"
rm -rf "$libs.old"
[ -d "$libs" ] && mv "$libs" "$libs.old"
mv "$tmp" "$libs"
trap - EXIT
rm -rf "$libs.old"
n=$(find "$libs" -maxdepth 1 -name '*.jar' | wc -l)
size=$(du -sm "$libs" | cut -f1)
secs=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}')
echo "kafka libs: resolved Kafka $version: $n jars + $(basename "$libs"/agent/*.jar), ${size} MB, in ${secs} s"
echo "$libs"
