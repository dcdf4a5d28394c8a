#!/usr/bin/env bash
# Fuzzing, bounded in time:
#
#   scripts/fuzz.sh [SECONDS]          (default 60; `make fuzz` calls this)
#
# 1. Runs every cargo-fuzz target in fuzz/ for SECONDS each (cargo-fuzz is installed from
#    crates.io if missing; the nightly toolchain is required). New corpus entries go to
#    fuzz/corpus/<target> (ignored by git); fuzz/seeds/<target> holds committed seeds.
# 2. Replays every saved crash in fuzz/regressions/<target>/ (each must now pass).
# 3. Builds the Worker, starts it under `wrangler dev` on a free port with a fresh state
#    directory, runs schemathesis against its OpenAPI document with ST_EXAMPLES (default 200)
#    examples per operation, and stops it.
# Exits non-zero if any step failed; every step runs regardless.
set -uo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

SECONDS_EACH=${1:-60}
ST_EXAMPLES=${ST_EXAMPLES:-200}
TARGETS=(request_bodies tool_arguments postgrest_encoder sse_encoder)
FUZZ=(cargo +nightly fuzz)
failed=()

say() { printf '[fuzz] %s\n' "$*"; }

if ! rustup toolchain list | grep -q '^nightly'; then
  say "installing the nightly toolchain"
  rustup toolchain install nightly --profile minimal || { say "no nightly toolchain"; exit 1; }
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
  say "installing cargo-fuzz (from crates.io)"
  cargo install cargo-fuzz --locked || { say "cannot install cargo-fuzz"; exit 1; }
fi

# Safe Rust: panics (and overflow checks, on by default in cargo fuzz) are the findings, so
# no sanitizer: several times more executions per second.
say "building the targets"
if ! "${FUZZ[@]}" build --sanitizer none; then
  say "the fuzz targets do not build"; exit 1
fi

for t in "${TARGETS[@]}"; do
  mkdir -p "fuzz/corpus/$t"
  seeds=()
  [ -d "fuzz/seeds/$t" ] && seeds=("fuzz/seeds/$t")
  say "$t: ${SECONDS_EACH}s"
  log=$(mktemp)
  if "${FUZZ[@]}" run --sanitizer none "$t" "fuzz/corpus/$t" "${seeds[@]}" -- \
      -max_total_time="$SECONDS_EACH" -print_final_stats=1 -timeout=10 -rss_limit_mb=4096 >"$log" 2>&1; then
    execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
    say "$t: ok, ${execs:-?} executions"
  else
    tail -40 "$log"
    say "$t: FAILED; the crash input is in fuzz/artifacts/$t/ (copy it to fuzz/regressions/$t/ once fixed)"
    failed+=("fuzz:$t")
  fi
  rm -f "$log"
done

for t in "${TARGETS[@]}"; do
  dir="fuzz/regressions/$t"
  [ -d "$dir" ] || continue
  mapfile -t inputs < <(find "$dir" -type f ! -name '*.md' | sort)
  [ "${#inputs[@]}" -gt 0 ] || continue
  say "$t: replaying ${#inputs[@]} regression inputs"
  if ! "${FUZZ[@]}" run --sanitizer none "$t" "${inputs[@]}" -- -runs=1 >/dev/null 2>&1; then
    say "$t: a regression input fails again:"
    "${FUZZ[@]}" run --sanitizer none "$t" "${inputs[@]}" -- -runs=1 2>&1 | tail -30
    failed+=("regression:$t")
  fi
done

say "schemathesis: building and starting the Worker"
blog=$(mktemp)
if make build >"$blog" 2>&1 || { cat "$blog"; false; }; then
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  inspector=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  state=$(mktemp -d)
  wlog="$state/wrangler.log"
  WRANGLER_SEND_METRICS=false CI=true setsid node_modules/.bin/wrangler dev \
    --ip 127.0.0.1 --port "$port" --inspector-port "$inspector" --persist-to "$state/state" \
    --show-interactive-dev-session=false \
    --var RATE_LIMIT_START_PER_MIN:1000000 --var RATE_LIMIT_CONTINUE_PER_MIN:1000000 \
    </dev/null >"$wlog" 2>&1 &
  wpid=$!
  stop() { kill -- "-$wpid" 2>/dev/null; wait "$wpid" 2>/dev/null; rm -rf "$state"; }
  trap stop EXIT
  for _ in $(seq 90); do
    curl -sf "http://127.0.0.1:$port/api/health" >/dev/null && break
    sleep 1
  done
  if curl -sf "http://127.0.0.1:$port/api/health" >/dev/null; then
    scripts/schemathesis.sh "http://127.0.0.1:$port" "$ST_EXAMPLES" || failed+=("schemathesis")
  else
    cat "$wlog"; say "the Worker did not start"; failed+=("schemathesis")
  fi
  stop
  trap - EXIT
else
  failed+=("build")
fi
rm -f "$blog"

if [ "${#failed[@]}" -gt 0 ]; then
  say "FAILED: ${failed[*]}"
  exit 1
fi
say "all passed"
