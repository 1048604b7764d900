#!/usr/bin/env bash
# `npm test`: set up what a fresh machine lacks, then build, typecheck and run every test via turbo.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test-tools
# Two cores: run one package's tests at a time so integration suites (each with its own
# MariaDB shards) don't starve each other into timeouts.
pnpm exec turbo run build
pnpm exec turbo run typecheck
pnpm exec turbo run test --concurrency=1
