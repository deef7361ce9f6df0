#!/usr/bin/env bash
# Session 15, second run (23:07-23:13 UTC, commit 7626648, the same kernels as the first): the first run's
# script with its own output folder. Run from the repo root as that one says.
set -euo pipefail
OUT_DIR=bench/results/cpu/ggml-decode-2026-11-29-session15-run2 \
  exec bash "$(dirname "$0")/ggml-decode-2026-11-29-session15.sh"
