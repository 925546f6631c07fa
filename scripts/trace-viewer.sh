#!/usr/bin/env bash
# The local trace viewer behind `make up OTEL=1`: Arize Phoenix, an OpenTelemetry trace UI
# from PyPI (no Jaeger or Collector build is in the package registries), pinned, installed
# once into target/otel-venv, run while the server with PID $1 runs. It takes OTLP/HTTP
# traces on 127.0.0.1:6006/v1/traces and shows them on http://127.0.0.1:6006.
#   scripts/trace-viewer.sh <server pid>      (prints the endpoint to export to, or nothing)
set -uo pipefail
server="$1"
PHOENIX="arize-phoenix==20.26.1"
venv=target/otel-venv
port=6006
if [[ ! -x $venv/bin/phoenix ]]; then
    echo "trace-viewer: installing $PHOENIX into $venv (once; a few minutes)" >&2
    if ! { python3 -m venv "$venv" && "$venv/bin/pip" install -q "$PHOENIX"; } >&2; then
        echo "trace-viewer: could not install $PHOENIX; traces are not exported." \
             "Set OTEL_EXPORTER_OTLP_ENDPOINT to a collector of yours instead (README, Observability)" >&2
        exit 0
    fi
fi
mkdir -p .dev/phoenix
# Phoenix's own gRPC port is moved off 4317, which a local collector may hold.
PHOENIX_WORKING_DIR=.dev/phoenix PHOENIX_HOST=127.0.0.1 PHOENIX_PORT=$port PHOENIX_GRPC_PORT=14317 \
    "$venv/bin/phoenix" serve > .dev/phoenix/phoenix.log 2>&1 &
viewer=$!
for _ in $(seq 1 120); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
    kill -0 "$viewer" 2>/dev/null || { echo "trace-viewer: Phoenix stopped, see .dev/phoenix/phoenix.log" >&2; exit 0; }
    sleep 0.5
done
echo "trace-viewer: traces on http://127.0.0.1:$port (Phoenix; its log: .dev/phoenix/phoenix.log)" >&2
echo "http://127.0.0.1:$port/v1/traces"
# Stops with the server.
( while kill -0 "$server" 2>/dev/null; do sleep 1; done; kill "$viewer" 2>/dev/null ) >/dev/null 2>&1 &
