#!/usr/bin/env bash
# Session 15: issue 5's GEMV ratios to our bf16 GEMV a fifth time, session 10's script with its own output
# folder. Run from the repo root after `cmake --build --preset cpu`: ROUNDS=6 this script.
set -euo pipefail
OUT_DIR=bench/results/cpu/lowbit-vs-bf16-2026-11-29-session15 \
  exec bash "$(dirname "$0")/lowbit-vs-bf16-2026-11-29-session10.sh"
