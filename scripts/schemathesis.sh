#!/usr/bin/env bash
# Property-based API testing of a running Worker against its own OpenAPI document.
#
#   scripts/schemathesis.sh BASE_URL [MAX_EXAMPLES]
#
# Installs schemathesis (pinned) into the project-local virtualenv .venv/ when it is missing
# (from PyPI; a second run skips the install), then runs every operation of
# BASE_URL/api/openapi.json with up to MAX_EXAMPLES generated requests each (valid and
# invalid ones), checking that no response is a 5xx and that every response's status code,
# content type and body match the document. The seed is fixed, so a run is repeatable.
# One worker by default: with two, schemathesis 4.32.5 on CPython 3.11.7 sometimes fails
# inside Hypothesis ("AST constructor recursion depth mismatch"), a tool error, not an API one.
# Exits non-zero when any check fails.
set -euo pipefail
cd "$(dirname "$0")/.."

BASE_URL=${1:?usage: scripts/schemathesis.sh BASE_URL [MAX_EXAMPLES]}
BASE_URL=${BASE_URL%/}
MAX_EXAMPLES=${2:-25}
SEED=${SCHEMATHESIS_SEED:-20261125}
SCHEMATHESIS_VERSION=4.32.5
VENV=.venv
ST="$VENV/bin/schemathesis"

say() { printf '[schemathesis] %s\n' "$*"; }

if ! "$ST" --version 2>/dev/null | grep -q "$SCHEMATHESIS_VERSION"; then
  say "installing schemathesis $SCHEMATHESIS_VERSION into $VENV"
  [ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
    "schemathesis==$SCHEMATHESIS_VERSION"
fi

say "running against $BASE_URL (max $MAX_EXAMPLES examples per operation, seed $SEED)"
exec "$ST" run "$BASE_URL/api/openapi.json" \
  --url "$BASE_URL" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
  --max-examples "$MAX_EXAMPLES" \
  --seed "$SEED" \
  --generation-database none \
  --workers "${SCHEMATHESIS_WORKERS:-1}" \
  --request-timeout 30 \
  --no-color
