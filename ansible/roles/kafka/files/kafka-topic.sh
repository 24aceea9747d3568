#!/usr/bin/env bash
# Creates or deletes one Kafka topic with Kafka's own TopicCommand. Installed by the greenrace kafka role.
#   kafka-topic.sh create TOPIC PARTITIONS REPLICATION_FACTOR [k=v ...]   (topic configs, e.g. min.insync.replicas=2)
#   kafka-topic.sh delete TOPIC
# Environment: KAFKA_HOME (libs/ inside), KAFKA_BOOTSTRAP (host:port,...), KAFKA_TOOLS_LOG4J (log4j2 file),
#   JAVA (default java), TOPIC_TIMEOUT (s, default 120).
# The first word printed is what happened: created | exists | deleted | absent. Exit 1 on failure, with
# the reason on stderr. `create` of a topic that exists with the same partitions, replication factor and
# configs is a no-op; with other settings it is an error. Creation is retried while an earlier deletion
# of the same topic completes.
set -uo pipefail
: "${KAFKA_HOME:?KAFKA_HOME is not set}" "${KAFKA_BOOTSTRAP:?KAFKA_BOOTSTRAP is not set}"
JAVA="${JAVA:-java}"
timeout_s="${TOPIC_TIMEOUT:-120}"
action="${1:-}"; topic="${2:-}"
[ -n "$topic" ] || { echo "usage: kafka-topic.sh create|delete TOPIC ..." >&2; exit 2; }

tc() {
  "$JAVA" -Xmx256m ${KAFKA_TOOLS_LOG4J:+-Dlog4j2.configurationFile="$KAFKA_TOOLS_LOG4J"} \
    -cp "$KAFKA_HOME/libs/*" org.apache.kafka.tools.TopicCommand --bootstrap-server "$KAFKA_BOOTSTRAP" "$@"
}
desc=""
describe() {
  # A pattern match, not `printf | grep -q`: under pipefail grep's early exit on a describe larger
  # than a pipe buffer (thousands of partitions) would SIGPIPE printf and fail the pipeline.
  desc=$(tc --describe --topic "$topic" 2>&1) && [[ "$desc" == *PartitionCount:* ]]
}
field() { printf '%s' "$head" | sed -n "s/.*$1: *\\([0-9]*\\).*/\\1/p"; }
deadline=$((SECONDS + timeout_s))

case "$action" in
  create)
    partitions="${3:?partitions missing}"; rf="${4:?replication factor missing}"; shift 4
    cfg_args=(); for kv in "$@"; do cfg_args+=(--config "$kv"); done
    while :; do
      if describe; then
        head=$(printf '%s\n' "$desc" | grep -m1 'PartitionCount:')
        ok=1
        [ "$(field PartitionCount)" = "$partitions" ] || ok=0
        [ "$(field ReplicationFactor)" = "$rf" ] || ok=0
        for kv in "$@"; do printf '%s' "$head" | grep -qE "Configs:.*(^|[ ,:])${kv//./\\.}(,|$| )" || ok=0; done
        if [ "$ok" -eq 1 ]; then echo "exists: $head"; exit 0; fi
        echo "topic $topic exists with other settings (wanted partitions $partitions, replication factor $rf${*:+, $*}): $head" >&2
        exit 1
      fi
      if out=$(tc --create --topic "$topic" --partitions "$partitions" --replication-factor "$rf" "${cfg_args[@]}" 2>&1); then
        echo "created: $(printf '%s' "$out" | tail -n 1)"; exit 0
      fi
      if printf '%s' "$out" | grep -qiE 'already exists|marked for deletion|being deleted|TopicExists' && [ "$SECONDS" -lt "$deadline" ]; then
        sleep 1; continue   # an earlier deletion of the same topic is still completing
      fi
      echo "could not create topic $topic:" >&2; printf '%s\n' "$out" | tail -n 20 >&2; exit 1
    done ;;
  delete)
    describe || { echo absent; exit 0; }
    if ! out=$(tc --delete --if-exists --topic "$topic" 2>&1); then
      echo "could not delete topic $topic:" >&2; printf '%s\n' "$out" | tail -n 20 >&2; exit 1
    fi
    while describe; do
      [ "$SECONDS" -lt "$deadline" ] || { echo "topic $topic still listed ${timeout_s} s after its deletion" >&2; exit 1; }
      sleep 1
    done
    echo deleted ;;
  *) echo "kafka-topic.sh: unknown action '$action' (create|delete)" >&2; exit 2 ;;
esac
