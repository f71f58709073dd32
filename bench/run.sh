#!/usr/bin/env bash
# The benchmarks of docs/benchmarks.md: a fresh single node on loopback, durable commits,
# then `govchain bench notarize` against it. Usage: bench/run.sh [TXS] [MEMORY_TXS]
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
TXS=${1:-20000}
MEMORY_TXS=${2:-200000}
PORT=${BENCH_PORT:-8790}
DIR=$(mktemp -d)
trap 'kill $NODE 2>/dev/null || true; wait $NODE 2>/dev/null || true; rm -rf "$DIR"' EXIT

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "date:    $(date -u +%Y-%m-%dT%H:%MZ)"
$BIN/govchain init --dir "$DIR" --port "$PORT" --json >/dev/null
$BIN/govchain node start --dir "$DIR" >"$DIR/node.log" 2>&1 &
NODE=$!
for _ in $(seq 100); do
  curl -fs "http://127.0.0.1:$PORT/v1/status" >/dev/null && break
  sleep 0.1
done

echo "== throughput and latency: $TXS notarisations"
$BIN/govchain bench notarize --node "http://127.0.0.1:$PORT" --dir "$DIR" --org tax \
  --txs "$TXS" --json

if [ "$MEMORY_TXS" -gt 0 ]; then
  echo "== memory after $MEMORY_TXS more notarisations"
  $BIN/govchain bench notarize --node "http://127.0.0.1:$PORT" --dir "$DIR" --org tax \
    --txs "$MEMORY_TXS" --json
fi
kill -INT $NODE; wait $NODE || true
echo "== audit of the whole ledger"
time $BIN/govchain verify --dir "$DIR"
