#!/usr/bin/env bash
# A real sync of every stream against the bundled Botmaker mock: no token, no network.
#
#   bash scripts/demo.sh            # 1,000 records per large stream
#   SCALE=20000 bash scripts/demo.sh
#
# Builds both binaries (the connector in release, the mock in its light `mock` profile), starts
# the mock on a free loopback port, runs `check` and a full `read` of
# catalog/configured_catalog.json, then shows what arrived. The mock answers
# with Botmaker's own rate limits, so the sync paces itself exactly as it would against
# api.botmaker.com.
set -euo pipefail
cd "$(dirname "$0")/.."

SCALE="${SCALE:-1000}"
echo "==> building source-botmaker (release) and botmaker-mock (its light \`mock\` profile)"
cargo build --release --quiet -p source-botmaker
cargo build --profile mock --quiet -p botmaker-mock

work="$(mktemp -d -t source-botmaker-demo.XXXXXX)"
anchor="$(date -u -d '-1 hour' +%Y-%m-%dT%H:%M:%SZ)"
start="$(date -u -d '-31 days' +%Y-%m-%d)"
target/mock/botmaker-mock --port 0 --scale "$SCALE" --anchor "$anchor" --url-file "$work/url" >"$work/mock.log" 2>&1 &
mock_pid=$!
trap 'kill "$mock_pid" 2>/dev/null || true' EXIT
for _ in $(seq 100); do [ -s "$work/url" ] && break; sleep 0.05; done
api_url="$(cat "$work/url")"
echo "==> mock Botmaker API listening on $api_url ($SCALE records per large stream, data up to $anchor)"

cat >"$work/config.json" <<JSON
{
  "access_token": "mock-token-0123456789",
  "start_date": "$start",
  "long_term_search": true,
  "include_session_events": true,
  "include_bi_dashboards": true,
  "api_url": "$api_url"
}
JSON

echo "==> source-botmaker check"
target/release/source-botmaker check --config "$work/config.json"

echo "==> source-botmaker read (every stream, the billed dashboards too; progress on stderr)"
started=$(date +%s%N)
target/release/source-botmaker read --config "$work/config.json" --catalog catalog/configured_catalog.json >"$work/output.jsonl"
elapsed_ms=$(( ($(date +%s%N) - started) / 1000000 ))

echo
echo "==> records per stream"
grep -o '^{"type":"RECORD","record":{"stream":"[a-z_]*"' "$work/output.jsonl" \
  | sed 's/.*"stream":"\([a-z_]*\)"/\1/' | sort | uniq -c | awk '{printf "  %-24s %8d\n", $2, $1}'
echo
echo "==> final state per stream (what the next incremental sync resumes from)"
grep '"type":"STATE"' "$work/output.jsonl" \
  | sed 's/.*"name":"\([a-z_]*\)"},"stream_state":\({[^}]*}\).*/\1 \2/' \
  | awk '{last[$1]=$2} END {for (s in last) printf "  %-24s %s\n", s, last[s]}' | sort
echo
for stream in messages whatsapp_templates agent_metrics notification_results billed_conversations; do
  echo "==> one $stream record"
  grep -m1 "\"stream\":\"$stream\"" "$work/output.jsonl" | cut -c1-400
done
echo
echo "==> log lines"
grep '"type":"LOG"' "$work/output.jsonl" | sed 's/.*"message":"\(.*\)"}}$/  \1/'
echo
echo "Read took ${elapsed_ms} ms. Everything the connector printed is in $work/output.jsonl"
