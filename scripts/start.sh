#!/usr/bin/env bash
# `npm start`: set up, build, and run the gateway on the demo cluster until Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
pnpm exec turbo run build --output-logs=errors-only
# The node flags of the `shardgate` bin (the first line of apps/gateway/src/cli.ts).
exec node --max-semi-space-size=4 --min-semi-space-size=4 apps/gateway/dist/cli.js up --config examples/demo/shardgate.yaml "$@"
