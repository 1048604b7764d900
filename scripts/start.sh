#!/usr/bin/env bash
# `npm start`: set up, build, and run the gateway on the demo cluster until Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
pnpm exec turbo run build --output-logs=errors-only
exec node apps/gateway/dist/cli.js up --config examples/demo/shardgate.yaml "$@"
