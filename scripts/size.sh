#!/usr/bin/env bash
# Prints the size of the Worker bundle, raw and gzip-compressed (what Cloudflare's
# 3 MB free-plan limit counts).
set -euo pipefail
cd "$(dirname "$0")/.."
total_raw=0; total_gz=0
printf '%-34s %12s %12s\n' "bundle file" "raw bytes" "gzip bytes"
while IFS= read -r f; do
  raw=$(stat -c %s "$f"); gz=$(gzip -9 -c "$f" | wc -c)
  total_raw=$((total_raw + raw)); total_gz=$((total_gz + gz))
  printf '%-34s %12d %12d\n' "$f" "$raw" "$gz"
done < <(find build -type f \( -name '*.wasm' -o -name '*.js' \) | sort)
printf '%-34s %12d %12d  (%.2f MB gzip of 3 MB allowed)\n' "total" "$total_raw" "$total_gz" \
  "$(awk "BEGIN { print $total_gz / 1000000 }")"
