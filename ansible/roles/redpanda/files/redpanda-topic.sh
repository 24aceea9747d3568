#!/usr/bin/env bash
# Creates or deletes one topic on Redpanda with rpk. Installed by the greenrace redpanda role.
#   redpanda-topic.sh create TOPIC PARTITIONS REPLICATION_FACTOR [k=v ...]   (topic configs, e.g. write.caching=true)
#   redpanda-topic.sh delete TOPIC
# Environment: RPK_BROKERS (host:port,...), RPK (default rpk), TOPIC_TIMEOUT (s, default 120).
# The first word printed is what happened: created | exists | deleted | absent. Exit 1 on failure.
set -uo pipefail
: "${RPK_BROKERS:?RPK_BROKERS is not set}"
RPK="${RPK:-rpk}"
timeout_s="${TOPIC_TIMEOUT:-120}"
action="${1:-}"; topic="${2:-}"
[ -n "$topic" ] || { echo "usage: redpanda-topic.sh create|delete TOPIC ..." >&2; exit 2; }
r() { "$RPK" "$@" -X "brokers=$RPK_BROKERS"; }
summary=""
describe() { summary=$(r topic describe "$topic" --print-summary 2>&1) && printf '%s' "$summary" | grep -q '^PARTITIONS'; }
val() { printf '%s\n' "$summary" | awk -v k="$1" '$1 == k {print $2; exit}'; }
deadline=$((SECONDS + timeout_s))
case "$action" in
  create)
    partitions="${3:?partitions missing}"; rf="${4:?replication factor missing}"; shift 4
    cfg=(); for kv in "$@"; do cfg+=(-c "$kv"); done
    while :; do
      if describe; then
        if [ "$(val PARTITIONS)" = "$partitions" ] && [ "$(val REPLICAS)" = "$rf" ]; then echo "exists: $topic"; exit 0; fi
        echo "topic $topic exists with other settings (wanted partitions $partitions, replicas $rf): $(printf '%s' "$summary" | tr '\n' ' ')" >&2
        exit 1
      fi
      out=$(r topic create "$topic" -p "$partitions" -r "$rf" "${cfg[@]}" 2>&1)
      if [ $? -eq 0 ] && ! printf '%s' "$out" | grep -qE 'TOPIC_ALREADY_EXISTS|INVALID|ERROR'; then echo "created: $topic"; exit 0; fi
      if printf '%s' "$out" | grep -q 'TOPIC_ALREADY_EXISTS' && [ "$SECONDS" -lt "$deadline" ]; then
        sleep 1; continue   # an earlier deletion of the same topic is still completing
      fi
      echo "could not create topic $topic:" >&2; printf '%s\n' "$out" | tail -n 20 >&2; exit 1
    done ;;
  delete)
    describe || { echo absent; exit 0; }
    out=$(r topic delete "$topic" 2>&1) || { echo "could not delete topic $topic:" >&2; printf '%s\n' "$out" | tail -n 20 >&2; exit 1; }
    while describe; do
      [ "$SECONDS" -lt "$deadline" ] || { echo "topic $topic still listed ${timeout_s} s after its deletion" >&2; exit 1; }
      sleep 1
    done
    echo deleted ;;
  *) echo "redpanda-topic.sh: unknown action '$action' (create|delete)" >&2; exit 2 ;;
esac
