#!/usr/bin/env bash
# source-botmaker performance benchmark (issue 7). See bench/README.md.
#
#   bench/run.sh [MODE...] [--quick] [--no-build] [--perf] [--help]
#     MODE: cpu | rate | spec | all (default all)
#
# Environment (all optional):
#   BENCH_SCALES        CPU-mode total record counts        (default "10000 100000 1000000";
#                                                             --quick: "10000 100000")
#   BENCH_RATE_TOTAL    rate-mode total record count         (default 1000000 ≈ 80 s ceiling;
#                                                             --quick: 150000)
#   BENCH_RATE_LATENCY_MS  mock latency in rate mode          (default 200)
#   BENCH_CONCURRENCY   max_concurrent_requests of the connector and the baseline (default 8)
#   BENCH_REPEAT        CPU mode: runs of each program per scale, the fastest reported (default 1)
#   BENCH_SPEC_RUNS     runs of `spec`                        (default 200; --quick: 50)
#   BENCH_SEED          mock seed                             (default 42)
#   BENCH_CPU_CONNECTOR_ENV  extra environment for the connector (and the previous build) in CPU
#                       mode (default SOURCE_BOTMAKER_CLIENT_RATE_LIMITS=off: see README, "Caveats")
#   BENCH_BEFORE_BIN    a previous build of the connector, run beside it against the same data
#                       for a before/after comparison (CPU per record and peak RSS in CPU mode,
#                       wall time against the ceiling in rate mode)
#   BENCH_CONNECTOR_BIN another connector binary to measure (default: the image's static musl
#                       build, target/x86_64-unknown-linux-musl/release/source-botmaker)
#   BENCH_OUT           results file (default bench/results/latest.md; with --perf, results.md in
#                       the run's directory, as perf's overhead makes its figures no results)
#
# Raw files of each run go to bench/results/runs/<UTC time>/ (not committed).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
target="${CARGO_TARGET_DIR:-$root/target}"
bin="$target/release"
mock_bin="$target/mock/botmaker-mock"

modes=()
quick=0
build=1
perf=0
for arg in "$@"; do
  case "$arg" in
    cpu|rate|spec) modes+=("$arg") ;;
    all) modes+=(cpu rate spec) ;;
    --quick) quick=1 ;;
    --no-build) build=0 ;;
    --perf) perf=1 ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) echo "run.sh: unknown argument '$arg' (try --help)" >&2; exit 2 ;;
  esac
done
[ ${#modes[@]} -eq 0 ] && modes=(cpu rate spec)
want() { local m; for m in "${modes[@]}"; do [ "$m" = "$1" ] && return 0; done; return 1; }

if [ "$quick" = 1 ]; then
  scales="${BENCH_SCALES:-10000 100000}"
  rate_total="${BENCH_RATE_TOTAL:-150000}"
  spec_runs="${BENCH_SPEC_RUNS:-50}"
else
  scales="${BENCH_SCALES:-10000 100000 1000000}"
  rate_total="${BENCH_RATE_TOTAL:-1000000}"
  spec_runs="${BENCH_SPEC_RUNS:-200}"
fi
latency_ms="${BENCH_RATE_LATENCY_MS:-200}"
concurrency="${BENCH_CONCURRENCY:-8}"
repeat="${BENCH_REPEAT:-1}"
repeat_label=""; [ "$repeat" -gt 1 ] && repeat_label=yes
seed="${BENCH_SEED:-42}"
cpu_env="${BENCH_CPU_CONNECTOR_ENV-SOURCE_BOTMAKER_CLIENT_RATE_LIMITS=off}"
runs_dir="$here/results/runs/$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$runs_dir"
if [ "$perf" = 1 ]; then
  out_md="${BENCH_OUT:-$runs_dir/results.md}"
else
  out_md="${BENCH_OUT:-$here/results/latest.md}"
fi
# The nine streams the benchmark's data mix is made of (and a previous build knows), from the
# sample configured catalog.
bench_catalog="$runs_dir/configured_catalog.json"
python3 - "$root/catalog/configured_catalog.json" "$bench_catalog" <<'PY'
import json, sys
core = {"chats", "messages", "sessions", "calls", "contacts", "agents", "channels", "intents", "tickets"}
catalog = json.load(open(sys.argv[1]))
catalog["streams"] = [s for s in catalog["streams"] if s["stream"]["name"] in core]
assert len(catalog["streams"]) == len(core), "the sample catalog lacks one of the nine streams"
json.dump(catalog, open(sys.argv[2], "w"))
PY

log() { printf '\n== %s\n' "$*" >&2; }
die() { echo "run.sh: $*" >&2; exit 1; }

# ---------------------------------------------------------------- tools

if [ ! -x /usr/bin/time ]; then
  log "installing GNU time"
  if command -v apt-get >/dev/null; then
    apt-get install -y -qq time >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq time; } >/dev/null
  fi
  [ -x /usr/bin/time ] || die "GNU time (/usr/bin/time) is required: install the 'time' package"
fi
if want spec && ! command -v hyperfine >/dev/null && command -v apt-get >/dev/null; then
  log "installing hyperfine (optional; a plain loop is used without it)"
  { apt-get install -y -qq hyperfine || { apt-get update -qq && apt-get install -y -qq hyperfine; }; } >/dev/null 2>&1 || true
fi
command -v curl >/dev/null || die "curl is required"

# The connector measured is the one the image ships: the static (musl) release build.
musl_target=x86_64-unknown-linux-musl
static_bin="$target/$musl_target/release/source-botmaker"
musl_toolchain() { # musl-gcc (for ring's C code) and Rust's musl target, installed when missing
  if ! command -v musl-gcc >/dev/null && command -v apt-get >/dev/null; then
    { apt-get install -y -qq musl-tools || { apt-get update -qq && apt-get install -y -qq musl-tools; }; } >/dev/null 2>&1 || true
  fi
  rustup target list --installed 2>/dev/null | grep -qx "$musl_target" || rustup target add "$musl_target" >/dev/null
}
if [ "$build" = 1 ]; then
  log "building release binaries (a cold build takes a few minutes)"
  if [ -z "${BENCH_CONNECTOR_BIN:-}" ]; then
    musl_toolchain
    (cd "$root" && CC_x86_64_unknown_linux_musl=musl-gcc cargo build --release --locked -p source-botmaker --target "$musl_target")
  fi
  (cd "$root" && cargo build --profile mock --locked -p botmaker-mock)
  (cd "$here" && cargo build --release --locked --target-dir "$target")
fi
for b in "$mock_bin" "$bin/raw-fetch" "$bin/bench-tool"; do
  [ -x "$b" ] || die "$b is missing (run without --no-build)"
done
conn_bin="${BENCH_CONNECTOR_BIN:-$static_bin}"
before_bin="${BENCH_BEFORE_BIN:-}"
[ -z "$before_bin" ] || [ -x "$before_bin" ] || die "BENCH_BEFORE_BIN=$before_bin is not an executable"
[ -x "$conn_bin" ] || die "$conn_bin is missing (run without --no-build, or set BENCH_CONNECTOR_BIN)"
# --perf: the release binaries are stripped, so profile copies built with symbols and line
# tables (same optimisation, LTO and codegen units) in a target directory of their own. The
# connector's copy is the same static musl build as the one measured (a glibc build, profiled
# before, hid that musl's memcpy took a quarter of the shipped binary's CPU); a binary named by
# BENCH_CONNECTOR_BIN is profiled as it is.
raw_bin="$bin/raw-fetch"
if [ "$perf" = 1 ]; then
  command -v perf >/dev/null || {
    log "installing perf"
    { apt-get install -y -qq linux-perf || { apt-get update -qq && apt-get install -y -qq linux-perf; }; } >/dev/null 2>&1 || true
  }
  command -v perf >/dev/null || die "--perf needs perf (Debian package linux-perf)"
  perf_target="$target/bench-perf"
  log "building unstripped copies for perf into ${perf_target#"$root"/}"
  export CARGO_PROFILE_RELEASE_STRIP=false CARGO_PROFILE_RELEASE_DEBUG=line-tables-only
  if [ -z "${BENCH_CONNECTOR_BIN:-}" ]; then
    musl_toolchain
    (cd "$root" && CC_x86_64_unknown_linux_musl=musl-gcc cargo build --release --locked -p source-botmaker \
      --target "$musl_target" --target-dir "$perf_target")
    conn_bin="$perf_target/$musl_target/release/source-botmaker"
  fi
  (cd "$here" && cargo build --release --locked --target-dir "$perf_target")
  unset CARGO_PROFILE_RELEASE_STRIP CARGO_PROFILE_RELEASE_DEBUG
  raw_bin="$perf_target/release/raw-fetch"
fi

# ---------------------------------------------------------------- helpers

mock_pid=""
mock_url=""
stop_mock() {
  if [ -n "$mock_pid" ]; then
    kill "$mock_pid" 2>/dev/null || true
    wait "$mock_pid" 2>/dev/null || true
    mock_pid=""
  fi
}
trap stop_mock EXIT
trap 'stop_mock; exit 130' INT TERM

# start_mock NAME ARGS... : starts the mock, sets mock_pid and mock_url (…/v2.0).
start_mock() {
  local name="$1"; shift
  local url_file="$runs_dir/$name.mock.url"
  rm -f "$url_file"
  "$mock_bin" --port 0 --seed "$seed" --url-file "$url_file" "$@" \
    >"$runs_dir/$name.mock.out" 2>"$runs_dir/$name.mock.err" &
  mock_pid=$!
  local i
  for i in $(seq 1 200); do
    [ -s "$url_file" ] && break
    kill -0 "$mock_pid" 2>/dev/null || die "the mock exited: $(cat "$runs_dir/$name.mock.err")"
    sleep 0.05
  done
  [ -s "$url_file" ] || die "the mock did not start within 10 s"
  mock_url="$(head -n1 "$url_file")"
}
mock_root() { echo "${mock_url%/v2.0}"; }

# CPU seconds (user+sys) the mock has used so far.
mock_cpu() {
  local ticks
  ticks="$(awk '{print $14 + $15}' "/proc/$mock_pid/stat" 2>/dev/null || echo 0)"
  awk -v t="$ticks" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.2f", t / hz }'
}

now_s() { date +%s.%N; }
fsub() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a - b }'; }
fdiv() { awk -v a="$1" -v b="$2" 'BEGIN { if (b == 0) print "0"; else printf "%.4f", a / b }'; }
kv() { sed -n "s/^$2=//p" "$1" | head -n1; }   # kv FILE KEY
# GNU time -v fields
tv_user() { sed -n 's/^[[:space:]]*User time (seconds): //p' "$1"; }
tv_sys() { sed -n 's/^[[:space:]]*System time (seconds): //p' "$1"; }
tv_rss_kb() { sed -n 's/^[[:space:]]*Maximum resident set size (kbytes): //p' "$1"; }
# Minor page faults: memory the allocator returned to the system and touched again (with
# mimalloc's purge_delay=0, most of a build's system time).
tv_faults() { sed -n 's/^[[:space:]]*Minor (reclaiming a frame) page faults: //p' "$1"; }
mb() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }          # KiB -> MiB
mb_bytes() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1048576 }'; } # bytes -> MiB
median() { printf '%s\n' "$@" | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

# Per-stream counts for a total of about N records. The mix gives every big stream the same
# time at its rate limit (records / (page size × requests per second) ≈ N/12,500 s), so in rate
# mode all streams are equally critical; messages dominate, as in a real account.
mix_args() {
  local n="$1"
  awk -v n="$n" 'BEGIN {
    sess = int(n * 0.19); calls = int(n * 0.10); chats = int(n * 0.06)
    tickets = int(n * 0.04); contacts = int(n * 0.025)
    intents = int(n * 0.002); if (intents < 3) intents = 3; if (intents > 2000) intents = 2000
    agents = int(n * 0.0003); if (agents < 3) agents = 3; if (agents > 300) agents = 300
    channels = 6
    msgs = n - sess - calls - chats - tickets - contacts - intents - agents - channels
    printf "--count messages=%d --count sessions=%d --count calls=%d --count chats=%d ", msgs, sess, calls, chats
    printf "--count tickets=%d --count contacts=%d --count intents=%d --count agents=%d --count channels=%d\n", tickets, contacts, intents, agents, channels
  }'
}

# The data ends an hour ago (a sync reads up to now - 2 min), spans 30 days; start_date is a
# day before the data.
anchor="$(date -u -d '-1 hour' +%Y-%m-%dT%H:%M:%SZ)"
start_date="$(date -u -d "$anchor - 31 days" +%Y-%m-%d)"

write_config() { # FILE URL
  cat >"$1" <<EOF
{"access_token": "mock-token-0123456789", "start_date": "$start_date", "long_term_search": true,
 "api_url": "$2", "max_concurrent_requests": $concurrency}
EOF
}

# Compares the connector's per-stream record counts with the mock's /_mock/counts taken before
# and after the run: a session is listed once it has finished, so sessions that finish while the
# sync runs may or may not be seen; any count within [before, after] is right.
check_counts() { # COUNT_FILE COUNTS_BEFORE COUNTS_AFTER -> prints "ok" or the differences
  local count_file="$1" s lo hi got diff=""
  for s in chats messages sessions calls contacts agents channels intents tickets; do
    lo="$(grep -o "\"$s\":[0-9]*" "$2" | cut -d: -f2)"
    hi="$(grep -o "\"$s\":[0-9]*" "$3" | cut -d: -f2)"
    got="$(kv "$count_file" "stream.$s.records")"; got="${got:-0}"
    if [ "$got" -lt "$lo" ] || [ "$got" -gt "$hi" ]; then
      if [ "$lo" = "$hi" ]; then diff="$diff $s:$got/$lo"; else diff="$diff $s:$got/$lo..$hi"; fi
    fi
  done
  [ -z "$diff" ] && echo ok || echo "got/expected$diff"
}

# 1-minute load average and CPU pressure (other processes on the machine skew every figure).
load_now() {
  local l p
  l="$(cut -d' ' -f1 /proc/loadavg)"
  p="$(sed -n 's/^some avg10=\([0-9.]*\).*/\1/p' /proc/pressure/cpu 2>/dev/null || true)"
  echo "${l}${p:+ (cpu pressure ${p}%)}"
}

perf_wrap() { # NAME -> prefix command for perf record, or nothing
  if [ "$perf" = 1 ]; then
    echo "perf record -q -F 999 -o $runs_dir/$1.perf.data --"
  fi
}
perf_top() { # NAME -> writes NAME.perf.txt (top symbols, self time) and prints its head
  [ "$perf" = 1 ] && [ -f "$runs_dir/$1.perf.data" ] || return 0
  perf report -i "$runs_dir/$1.perf.data" --no-children --sort dso,sym --stdio -g none 2>/dev/null \
    | grep -v '^#' | grep '%' | head -n 40 >"$runs_dir/$1.perf.txt" || true
  echo "   perf, $1 (self time, top 15; all in ${runs_dir#"$root"/}/$1.perf.txt):" >&2
  head -n 15 "$runs_dir/$1.perf.txt" | sed 's/^/     /' >&2
}

results=()      # summary rows: "target|measured|verdict"
add_row() { results+=("$1|$2|$3"); }
details=""      # markdown detail sections
add_detail() { details+="$1"$'\n'; }

# run_connector_reps TAG=BIN...: BENCH_REPEAT rounds against fresh mocks for the current scale
# (globals name, mix); each round runs every given binary once, in turn, so a host whose speed
# drifts during the benchmark moves every build alike (one build's runs back to back, then the
# other's, once made the previous build look 15 % cheaper). For each TAG the fastest run's files
# are kept as $runs_dir/$name.TAG.* (and the mock's counts after it as
# $name.counts.after.TAG.json), and best_wall, best_mock_cpu, best_load, best_exit, median_rss
# (KiB), runs_rss (every run's, MB, "a/b/c"), median_cpu (user+sys, s) and runs_cpu are set for
# it. Peak RSS and CPU are the medians of the runs, not the fastest run's: the same program on
# the same data peaks up to ~1.5 MB apart from one run to the next, and a 0.5 s CPU figure moves
# by a tenth.
declare -A best_wall=() best_mock_cpu=() best_load=() best_exit=() median_rss=() runs_rss=() median_cpu=() runs_cpu=()
run_connector_reps() {
  local pair prog tag rep load m0 t0 t1 m1 wall f
  local -a rep_status
  local -A rss=() cpu=()
  for pair in "$@"; do best_wall[${pair%%=*}]=""; done
  for rep in $(seq 1 "$repeat"); do
    for pair in "$@"; do
      tag="${pair%%=*}"; prog="${pair#*=}"
      # shellcheck disable=SC2086
      start_mock "$name.$tag$rep" --no-rate-limits --anchor "$anchor" --span-days 30 $mix
      write_config "$runs_dir/$name.config.json" "$mock_url"
      log "  $tag: $prog read (all streams, stdout counted through a pipe)${repeat_label:+, run $rep of $repeat}"
      load="$(load_now)"
      m0="$(mock_cpu)"; t0="$(now_s)"
      set +e
      # shellcheck disable=SC2046,SC2086
      /usr/bin/time -v -o "$runs_dir/$name.$tag.$rep.time" env $cpu_env $(perf_wrap "$name.$tag") "$prog" read \
        --config "$runs_dir/$name.config.json" --catalog "$bench_catalog" \
        2>"$runs_dir/$name.$tag.$rep.err" | "$bin/bench-tool" count >"$runs_dir/$name.$tag.$rep.count" 2>"$runs_dir/$name.$tag.$rep.count.err"
      rep_status=("${PIPESTATUS[@]}")
      set -e
      t1="$(now_s)"; m1="$(mock_cpu)"
      wall="$(fsub "$t1" "$t0")"
      curl -fsS "$(mock_root)/_mock/requests/summary" >"$runs_dir/$name.$tag.$rep.summary.json"
      curl -fsS "$(mock_root)/_mock/counts" >"$runs_dir/$name.counts.after.$tag.$rep.json"
      stop_mock
      [ "${rep_status[0]}" = 0 ] || echo "run.sh: WARNING: $prog exited with ${rep_status[0]} (see $runs_dir/$name.$tag.$rep.err)" >&2
      rss[$tag]+="${rss[$tag]:+ }$(tv_rss_kb "$runs_dir/$name.$tag.$rep.time")"
      cpu[$tag]+="${cpu[$tag]:+ }$(awk -v a="$(tv_user "$runs_dir/$name.$tag.$rep.time")" -v b="$(tv_sys "$runs_dir/$name.$tag.$rep.time")" 'BEGIN { printf "%.2f", a + b }')"
      if [ -z "${best_wall[$tag]}" ] || awk -v a="$wall" -v b="${best_wall[$tag]}" 'BEGIN { exit !(a < b) }'; then
        best_wall[$tag]="$wall"; best_mock_cpu[$tag]="$(fsub "$m1" "$m0")"; best_load[$tag]="$load"; best_exit[$tag]="${rep_status[0]}"
        for f in time err count count.err summary.json; do cp "$runs_dir/$name.$tag.$rep.$f" "$runs_dir/$name.$tag.$f"; done
        cp "$runs_dir/$name.counts.after.$tag.$rep.json" "$runs_dir/$name.counts.after.$tag.json"
      fi
    done
  done
  for pair in "$@"; do
    tag="${pair%%=*}"
    # shellcheck disable=SC2086
    median_rss[$tag]="$(median ${rss[$tag]})"
    # shellcheck disable=SC2086
    runs_rss[$tag]="$(for f in ${rss[$tag]}; do mb "$f"; echo; done | paste -sd/)"
    # shellcheck disable=SC2086
    median_cpu[$tag]="$(median ${cpu[$tag]})"
    runs_cpu[$tag]="$(echo "${cpu[$tag]}" | tr ' ' /)"
  done
}

# ---------------------------------------------------------------- (a) CPU-bound

if want cpu; then
  cpu_rows=""
  before_rows=""
  declare -A rss_by_scale=() runs_rss_by_scale=() before_cpu_by_scale=() before_rss_by_scale=() conn_cpu_by_scale=() \
    before_runs_cpu_by_scale=() conn_runs_cpu_by_scale=()
  count_problems=""
  for n in $scales; do
    name="cpu-$n"
    log "CPU-bound, ~$n records: mock without latency or rate limits"
    mix="$(mix_args "$n")"
    # shellcheck disable=SC2086
    start_mock "$name" --no-rate-limits --anchor "$anchor" --span-days 30 $mix
    curl -fsS "$(mock_root)/_mock/counts" >"$runs_dir/$name.counts.json"
    expected="$(grep -o '[0-9][0-9]*' "$runs_dir/$name.counts.json" | paste -sd+ | bc)"
    write_config "$runs_dir/$name.config.json" "$mock_url"

    # Raw baseline first (warms the mock's code and the page cache the same way for both).
    # Each program runs BENCH_REPEAT times, each time against a fresh mock with the same data
    # (so request counts are its own); the fastest run (by wall time) is reported.
    raw_wall=""
    for rep in $(seq 1 "$repeat"); do
      [ -n "$mock_pid" ] || start_mock "$name.r$rep" --no-rate-limits --anchor "$anchor" --span-days 30 $mix
      log "  raw baseline (raw-fetch), $expected records${repeat_label:+, run $rep of $repeat}"
      load="$(load_now)"
      m0="$(mock_cpu)"; t0="$(now_s)"
      # shellcheck disable=SC2046
      /usr/bin/time -v -o "$runs_dir/$name.raw.$rep.time" $(perf_wrap "$name.raw") "$raw_bin" \
        --url "$mock_url" --start "$start_date" --concurrency "$concurrency" \
        >"$runs_dir/$name.raw.$rep.out" 2>"$runs_dir/$name.raw.$rep.err" || die "raw-fetch failed: $(tail -3 "$runs_dir/$name.raw.$rep.err")"
      t1="$(now_s)"; m1="$(mock_cpu)"
      wall="$(fsub "$t1" "$t0")"
      curl -fsS "$(mock_root)/_mock/requests/summary" >"$runs_dir/$name.raw.$rep.summary.json"
      stop_mock
      if [ -z "$raw_wall" ] || awk -v a="$wall" -v b="$raw_wall" 'BEGIN { exit !(a < b) }'; then
        raw_wall="$wall"; raw_mock_cpu="$(fsub "$m1" "$m0")"; raw_load="$load"
        for f in time out err summary.json; do cp "$runs_dir/$name.raw.$rep.$f" "$runs_dir/$name.raw.$f"; done
      fi
    done

    # The previous build, if given, runs in turn with this one against the same data, for the
    # before/after comparison.
    run_connector_reps "conn=$conn_bin" ${before_bin:+"before=$before_bin"}
    conn_wall="${best_wall[conn]}"; conn_mock_cpu="${best_mock_cpu[conn]}"; conn_load="${best_load[conn]}"; status=("${best_exit[conn]}")
    conn_rss="${median_rss[conn]}"; conn_runs_rss="${runs_rss[conn]}"
    if [ -n "$before_bin" ]; then
      before_records="$(kv "$runs_dir/$name.before.count" records)"
      before_cpu="${median_cpu[before]}"
      before_rss="${median_rss[before]}"
      before_rows+="| ~$n | $before_records | ${best_wall[before]} | $before_cpu${repeat_label:+ (${runs_cpu[before]})} | $(awk -v r="$before_records" -v c="$before_cpu" 'BEGIN { if (r > 0) printf "%.2f", c / r * 1e6; else print "-" }') | $(tv_faults "$runs_dir/$name.before.time") | $(mb "$before_rss") |"$'\n'
      before_cpu_by_scale[$n]="$before_cpu/$before_records"
      before_runs_cpu_by_scale[$n]="${runs_cpu[before]}"
      before_rss_by_scale[$n]="$before_rss"
    fi
    "$bin/bench-tool" ceiling --counts "$runs_dir/$name.counts.json" --summary "$runs_dir/$name.conn.summary.json" \
      >"$runs_dir/$name.conn.limits"

    # Figures
    conn_records="$(kv "$runs_dir/$name.conn.count" records)"
    raw_records="$(kv "$runs_dir/$name.raw.out" records)"
    conn_user="$(tv_user "$runs_dir/$name.conn.time")"; conn_sys="$(tv_sys "$runs_dir/$name.conn.time")"
    raw_user="$(tv_user "$runs_dir/$name.raw.time")"; raw_sys="$(tv_sys "$runs_dir/$name.raw.time")"
    conn_cpu="$(awk -v a="$conn_user" -v b="$conn_sys" 'BEGIN { printf "%.2f", a + b }')"
    raw_cpu="$(awk -v a="$raw_user" -v b="$raw_sys" 'BEGIN { printf "%.2f", a + b }')"
    raw_rss="$(tv_rss_kb "$runs_dir/$name.raw.time")"
    conn_rps="$(awk -v r="$conn_records" -v w="$conn_wall" 'BEGIN { printf "%.0f", r / w }')"
    raw_rps="$(awk -v r="$raw_records" -v w="$raw_wall" 'BEGIN { printf "%.0f", r / w }')"
    conn_rpc="$(awk -v r="$conn_records" -v c="$conn_cpu" 'BEGIN { if (c > 0) printf "%.0f", r / c; else print "-" }')"
    raw_rpc="$(awk -v r="$raw_records" -v c="$raw_cpu" 'BEGIN { if (c > 0) printf "%.0f", r / c; else print "-" }')"
    conn_bytes="$(kv "$runs_dir/$name.conn.count" bytes)"
    raw_bytes="$(kv "$runs_dir/$name.raw.out" bytes)"
    conn_reqs="$(grep -o '"total":[0-9]*' "$runs_dir/$name.conn.summary.json" | cut -d: -f2)"
    raw_reqs="$(kv "$runs_dir/$name.raw.out" requests)"
    limiter_floor="$(kv "$runs_dir/$name.conn.limits" ceiling_at_made_requests_s)"
    limiter_stream="$(kv "$runs_dir/$name.conn.limits" ceiling_at_made_requests_stream)"
    ratio="$(fdiv "$conn_rps" "$raw_rps")"
    counts_ok="$(check_counts "$runs_dir/$name.conn.count" "$runs_dir/$name.counts.json" "$runs_dir/$name.counts.after.conn.json")"
    [ "${status[0]}" = 0 ] || counts_ok="exit ${status[0]}; $counts_ok"
    [ "$counts_ok" = ok ] || count_problems="$count_problems ~$n: $counts_ok;"
    rss_by_scale[$n]="$conn_rss"
    runs_rss_by_scale[$n]="$conn_runs_rss"
    conn_cpu_by_scale[$n]="${median_cpu[conn]}/$conn_records"
    conn_runs_cpu_by_scale[$n]="${runs_cpu[conn]}"
    perf_top "$name.raw"
    perf_top "$name.conn"

    cpu_rows+="| ~$n | connector | $conn_records | $conn_wall | $conn_rps | $conn_user | $conn_sys | $(tv_faults "$runs_dir/$name.conn.time") | $conn_rpc | $(mb "$conn_rss")${repeat_label:+ ($conn_runs_rss)} | $(mb_bytes "$conn_bytes") (stdout) | $conn_reqs | $conn_mock_cpu | $conn_load |"$'\n'
    cpu_rows+="| ~$n | raw baseline | $raw_records | $raw_wall | $raw_rps | $raw_user | $raw_sys | $(tv_faults "$runs_dir/$name.raw.time") | $raw_rpc | $(mb "$raw_rss") | $(mb_bytes "$raw_bytes") (bodies) | $raw_reqs | $raw_mock_cpu | $raw_load |"$'\n'

    pct="$(awk -v r="$ratio" 'BEGIN { printf "%.0f%%", r * 100 }')"
    verdict="$(awk -v r="$ratio" 'BEGIN { print (r >= 0.70) ? "PASS" : "MISS" }')"
    note=""
    # Is the connector's wall time its own client-side rate limiter's floor?
    if awk -v w="$conn_wall" -v f="$limiter_floor" 'BEGIN { exit !(f > 0.5 && w < f * 1.15 && w > f * 0.8) }'; then
      note=" — bound by the connector's own rate limiter (floor $limiter_floor s on $limiter_stream)"
    fi
    add_row "CPU ~$n records: connector records/s ≥ 70 % of raw baseline" \
      "$conn_rps vs $raw_rps rec/s = $pct$note" "$verdict"
    add_row "(info) CPU ~$n records: records per CPU-second (user+sys), connector vs raw baseline" \
      "$conn_rpc vs $raw_rpc = $(awk -v a="$conn_cpu" -v b="$raw_cpu" 'BEGIN { if (a > 0) printf "%.0f%%", b / a * 100; else print "-" }')" "—"
    echo "   connector: $conn_records records in $conn_wall s ($conn_rps rec/s), CPU ${conn_cpu} s, RSS $(mb "$conn_rss") MB; baseline: $raw_records in $raw_wall s ($raw_rps rec/s), CPU ${raw_cpu} s; counts $counts_ok" >&2
  done

  # RSS targets over the scales
  max_rss=0; min_rss=999999999; rss_list=""
  for n in $scales; do
    r="${rss_by_scale[$n]}"
    [ "$r" -gt "$max_rss" ] && max_rss="$r"
    [ "$r" -lt "$min_rss" ] && min_rss="$r"
    rss_list="$rss_list ~$n: $(mb "$r") MB${repeat_label:+ (runs ${runs_rss_by_scale[$n]})},"
  done
  first_scale="$(echo "$scales" | awk '{print $1}')"; last_scale="$(echo "$scales" | awk '{print $NF}')"
  add_row "CPU: connector peak RSS ≤ 15 MB at every scale" "max $(mb "$max_rss") MB (${rss_list%,} )" \
    "$(awk -v k="$max_rss" 'BEGIN { print (k <= 15 * 1024) ? "PASS" : "MISS" }')"
  first_rss="${rss_by_scale[$first_scale]}"; last_rss="${rss_by_scale[$last_scale]}"
  add_row "CPU: peak RSS at ~$last_scale records no more than 4 MB above ~$first_scale" \
    "$(mb "$last_rss") MB vs $(mb "$first_rss") MB (+$(mb $((last_rss - first_rss))) MB)" \
    "$(awk -v d=$((last_rss - first_rss)) 'BEGIN { print (d <= 4 * 1024) ? "PASS" : "MISS" }')"
  if [ -n "$before_bin" ]; then
    for n in $scales; do
      IFS=/ read -r bc br <<<"${before_cpu_by_scale[$n]}"
      IFS=/ read -r cc cr <<<"${conn_cpu_by_scale[$n]}"
      # CPU times come in 10 ms steps: below a fifth of a second the comparison says little.
      label="CPU ~$n records: CPU per record within 10 % of the previous build"
      if awk -v c="$bc" 'BEGIN { exit !(c < 0.2) }'; then label="(info, under 0.2 s of CPU) $label"; fi
      add_row "$label" \
        "$(awk -v c="$cc" -v r="$cr" 'BEGIN { printf "%.2f", c / r * 1e6 }') vs $(awk -v c="$bc" -v r="$br" 'BEGIN { printf "%.2f", c / r * 1e6 }') µs/record ($(awk -v c="$cc" -v r="$cr" -v b="$bc" -v s="$br" 'BEGIN { printf "%+.0f%%", ((c / r) / (b / s) - 1) * 100 }')${repeat_label:+; CPU is the median of the runs, connector ${conn_runs_cpu_by_scale[$n]} s, previous build ${before_runs_cpu_by_scale[$n]} s}); peak RSS $(mb "${rss_by_scale[$n]}") vs $(mb "${before_rss_by_scale[$n]}") MB" \
        "$(awk -v c="$cc" -v r="$cr" -v b="$bc" -v s="$br" -v info="${label%%)*}" 'BEGIN { if (info ~ /^\(info/) print "—"; else print ((c / r) <= 1.10 * (b / s)) ? "PASS" : "MISS" }')"
    done
  fi
  add_row "(check) CPU: connector emitted exactly the mock's records, exit 0" \
    "${count_problems:-every stream equal at every scale}" "$([ -z "$count_problems" ] && echo PASS || echo FAIL)"

  [ "$perf" = 1 ] && add_detail "**Run under perf record (--perf): CPU, wall and RSS figures include perf's overhead and are not comparable with normal runs.**"$'\n'
  add_detail "### (a) CPU-bound: mock without latency and rate limits, max_concurrent_requests=$concurrency${repeat_label:+, fastest of $repeat runs each}"
  add_detail ""
  add_detail "| scale | program | records | wall s | records/s | user s | sys s | page faults | records per CPU-s | peak RSS MB | output MB | requests | mock CPU s | load at start |"
  add_detail "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"
  add_detail "${cpu_rows%$'\n'}"
  add_detail ""
  add_detail "Connector environment in this mode: \`${cpu_env:-(none)}\`. Per-stream requests and the connector's own rate-limit floor of the largest run:"
  add_detail ""
  add_detail "$(grep '^|' "$runs_dir/cpu-$last_scale.conn.limits")"
  add_detail ""
  if [ -n "$before_bin" ]; then
    add_detail "Previous build (\`BENCH_BEFORE_BIN\`), same data and settings, fastest of its runs (CPU: the median of its runs, each run's beside it):"
    add_detail ""
    add_detail "| scale | records | wall s | CPU s (user+sys) | CPU µs per record | page faults | peak RSS MB |"
    add_detail "|---|---:|---:|---:|---:|---:|---:|"
    add_detail "${before_rows%$'\n'}"
    add_detail ""
  fi
fi

# ---------------------------------------------------------------- (b) rate-limit-bound

# rate_read TAG PROG: PROG reads every stream from the running mock; leaves
# $name.TAG.{config.json,time,err,count,count.err,summary.json} and sets rate_wall and rate_status.
rate_read() {
  local tag="$1" prog="$2" t0 t1
  write_config "$runs_dir/$name.$tag.config.json" "$mock_url"
  t0="$(now_s)"
  set +e
  /usr/bin/time -v -o "$runs_dir/$name.$tag.time" "$prog" read \
    --config "$runs_dir/$name.$tag.config.json" --catalog "$bench_catalog" \
    2>"$runs_dir/$name.$tag.err" | "$bin/bench-tool" count >"$runs_dir/$name.$tag.count" 2>"$runs_dir/$name.$tag.count.err"
  rate_status=("${PIPESTATUS[@]}")
  set -e
  t1="$(now_s)"
  rate_wall="$(fsub "$t1" "$t0")"
  curl -fsS "$(mock_root)/_mock/requests/summary" >"$runs_dir/$name.$tag.summary.json"
}

if want rate; then
  name="rate-$rate_total"
  rate_load="$(load_now)"
  log "rate-limit-bound, ~$rate_total records: mock with ${latency_ms} ms latency and the documented rate limits"
  mix="$(mix_args "$rate_total")"
  # shellcheck disable=SC2086
  start_mock "$name" --latency-ms "$latency_ms" --anchor "$anchor" --span-days 30 $mix
  curl -fsS "$(mock_root)/_mock/counts" >"$runs_dir/$name.counts.json"
  # The ceiling can be computed before the run (the table is printed again after it).
  echo '{"by_endpoint":{},"by_status":{},"total":0,"rate_limited":0}' >"$runs_dir/$name.empty.json"
  pre="$("$bin/bench-tool" ceiling --counts "$runs_dir/$name.counts.json" --summary "$runs_dir/$name.empty.json")"
  echo "   rate-limit ceiling: $(echo "$pre" | sed -n 's/^ceiling_s=//p') s ($(echo "$pre" | sed -n 's/^ceiling_stream=//p')); running the connector..." >&2
  m0="$(mock_cpu)"
  rate_read conn "$conn_bin"
  m1="$(mock_cpu)"
  wall="$rate_wall"; status=("${rate_status[@]}"); rate_mock_cpu="$(fsub "$m1" "$m0")"
  curl -fsS "$(mock_root)/_mock/counts" >"$runs_dir/$name.counts.after.json"
  stop_mock
  if [ -n "$before_bin" ]; then
    # The previous build against a fresh mock with the same data, for the before/after row.
    echo "   connector: wall $wall s; running the previous build (BENCH_BEFORE_BIN)..." >&2
    # shellcheck disable=SC2086
    start_mock "$name.before" --latency-ms "$latency_ms" --anchor "$anchor" --span-days 30 $mix
    rate_read before "$before_bin"
    before_wall="$rate_wall"; before_status=("${rate_status[@]}")
    stop_mock
    "$bin/bench-tool" ceiling --counts "$runs_dir/$name.counts.json" --summary "$runs_dir/$name.before.summary.json" >"$runs_dir/$name.before.ceiling"
  fi
  "$bin/bench-tool" ceiling --counts "$runs_dir/$name.counts.json" --summary "$runs_dir/$name.conn.summary.json" >"$runs_dir/$name.ceiling"
  ceiling_s="$(kv "$runs_dir/$name.ceiling" ceiling_s)"
  ceiling_stream="$(kv "$runs_dir/$name.ceiling" ceiling_stream)"
  ceiling_ov="$(kv "$runs_dir/$name.ceiling" ceiling_overlap_s)"
  at_made="$(kv "$runs_dir/$name.ceiling" ceiling_at_made_requests_s)"
  at_made_stream="$(kv "$runs_dir/$name.ceiling" ceiling_at_made_requests_stream)"
  n429="$(kv "$runs_dir/$name.ceiling" status_429)"; n429="${n429:-0}"
  limited="$(kv "$runs_dir/$name.ceiling" rate_limited)"
  records="$(kv "$runs_dir/$name.conn.count" records)"
  counts_ok="$(check_counts "$runs_dir/$name.conn.count" "$runs_dir/$name.counts.json" "$runs_dir/$name.counts.after.json")"
  [ "${status[0]}" = 0 ] || counts_ok="exit ${status[0]}; $counts_ok"
  over="$(awk -v w="$wall" -v c="$ceiling_s" 'BEGIN { printf "%+.1f%%", (w / c - 1) * 100 }')"
  add_row "Rate: wall time within 10 % of the rate-limit ceiling (~$rate_total records, ${latency_ms} ms latency)" \
    "$wall s vs ceiling $ceiling_s s on $ceiling_stream ($over; $ceiling_ov s counting the tickets overlap); at the requests actually made: $at_made s ($at_made_stream)" \
    "$(awk -v w="$wall" -v c="$ceiling_s" 'BEGIN { print (w <= c * 1.10) ? "PASS" : "MISS" }')"
  add_row "Rate: zero 429 responses" "$n429 (rate limiter: $limited)" "$([ "$n429" = 0 ] && echo PASS || echo MISS)"
  if [ -n "$before_bin" ]; then
    before_429="$(kv "$runs_dir/$name.before.ceiling" status_429)"
    add_row "(info) Rate: the previous build (BENCH_BEFORE_BIN) against the same data" \
      "$before_wall s vs ceiling $ceiling_s s ($(awk -v w="$before_wall" -v c="$ceiling_s" 'BEGIN { printf "%+.1f%%", (w / c - 1) * 100 }')), ${before_429:-0} 429s, exit ${before_status[0]}, $(kv "$runs_dir/$name.before.count" records) records" "—"
  fi
  add_row "(check) Rate: connector emitted exactly the mock's records, exit 0" "$counts_ok" \
    "$([ "$counts_ok" = ok ] && echo PASS || echo FAIL)"
  add_detail "### (b) Rate-limit-bound: ${latency_ms} ms latency, documented rate limits, max_concurrent_requests=$concurrency"
  add_detail ""
  add_detail "Wall $wall s for $records records; connector user $(tv_user "$runs_dir/$name.conn.time") s, sys $(tv_sys "$runs_dir/$name.conn.time") s, peak RSS $(mb "$(tv_rss_kb "$runs_dir/$name.conn.time")") MB; mock CPU $rate_mock_cpu s; load at start $rate_load."
  add_detail "Ceiling = max over streams of min requests / rate (streams run concurrently): $ceiling_s s on $ceiling_stream; $ceiling_ov s counting tickets' 10-item page overlap."
  add_detail ""
  add_detail "$(grep '^|' "$runs_dir/$name.ceiling")"
  add_detail ""
  by429="$(grep -o 'GET /v2.0/[a-z]* ([a-z]*): HTTP 429' "$runs_dir/$name.conn.count.err" 2>/dev/null | sed 's/.*(\([a-z]*\)).*/\1/' | sort | uniq -c | awk '{ printf "%s%s %s", sep, $2, $1; sep = ", " }' || true)"
  [ -n "$by429" ] && add_detail "429s by endpoint (from the connector's WARN logs): $by429."$'\n'
  echo "   wall $wall s, ceiling $ceiling_s s ($over), 429s: $n429" >&2
fi

# ---------------------------------------------------------------- (c) spec cold start

if want spec; then
  log "spec cold start ($spec_runs runs)"
  if command -v hyperfine >/dev/null; then
    hyperfine -N --warmup 10 --runs "$spec_runs" --export-json "$runs_dir/spec.json" \
      "$conn_bin spec" >"$runs_dir/spec.hyperfine.txt" 2>&1 || die "hyperfine failed: $(tail -5 "$runs_dir/spec.hyperfine.txt")"
    spec_mean="$(grep -o '"mean": *[0-9.e-]*' "$runs_dir/spec.json" | head -1 | awk -F: '{ printf "%.2f", $2 * 1000 }')"
    spec_min="$(grep -o '"min": *[0-9.e-]*' "$runs_dir/spec.json" | head -1 | awk -F: '{ printf "%.2f", $2 * 1000 }')"
    how="hyperfine -N, $spec_runs runs"
  else
    "$bin/bench-tool" spawn-time --runs "$spec_runs" -- "$conn_bin" spec >"$runs_dir/spec.loop.txt"
    spec_mean="$(kv "$runs_dir/spec.loop.txt" mean_ms | awk '{ printf "%.2f", $1 }')"
    spec_min="$(kv "$runs_dir/spec.loop.txt" min_ms | awk '{ printf "%.2f", $1 }')"
    how="spawn loop, $spec_runs runs"
  fi
  add_row "spec cold start ≤ 5 ms (mean)" "mean $spec_mean ms, min $spec_min ms ($how)" \
    "$(awk -v m="$spec_mean" 'BEGIN { print (m <= 5) ? "PASS" : "MISS" }')"
  echo "   mean $spec_mean ms, min $spec_min ms" >&2
fi

# ---------------------------------------------------------------- summary

commit="$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo '?')"
dirty="$(git -C "$root" status --porcelain -- src mock Cargo.toml 2>/dev/null | grep -q . && echo ' (+ uncommitted changes in src/ or mock/)' || true)"
cpu_model="$(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ *//')"
{
  echo "# source-botmaker benchmark results"
  echo
  echo "$(date -u +%Y-%m-%dT%H:%M:%SZ) · commit $commit$dirty · $(nproc) CPUs (${cpu_model:-unknown}), shared by the mock, the connector and the baseline · \`bench/run.sh ${*:-all}\`"
  echo
  echo "| target | measured | verdict |"
  echo "|---|---|---|"
  for r in "${results[@]}"; do
    IFS='|' read -r t m v <<<"$r"
    echo "| $t | $m | **$v** |"
  done
  echo
  printf '%s' "$details"
} >"$runs_dir/summary.md"
mkdir -p "$(dirname "$out_md")"
cp "$runs_dir/summary.md" "$out_md"
echo
cat "$runs_dir/summary.md"
echo
echo "(written to ${out_md#"$root"/}; raw files in ${runs_dir#"$root"/})"
