#!/usr/bin/env bash
# The payment saga's clock for `make up`: POSTs the relay (POST /internal/relay/) about once a
# second while the server with PID $2 runs, so a local checkout is paid within seconds and
# failed steps are retried on their backoff. On SpinKube a CronJob does this (docs/deploy.md).
#   scripts/relay-ticker.sh http://127.0.0.1:3000 <server pid>
set -uo pipefail
base="$1" server="$2"
command -v curl >/dev/null || { echo "relay-ticker: curl is needed: apt-get install curl" >&2; exit 1; }
: "${SPIN_VARIABLE_RELAY_TOKEN:?relay-ticker: source .dev/env first}"
# The token goes to curl on stdin, never on a command line.
while kill -0 "$server" 2>/dev/null; do
    printf 'header = "Authorization: Bearer %s"\n' "$SPIN_VARIABLE_RELAY_TOKEN" |
        curl -sS -o /dev/null --max-time 30 -X POST --config - "$base/internal/relay/" 2>/dev/null
    sleep 1
done
