#!/usr/bin/env bash
# Session 29: 2-bit prefill (m = 512) against llama.cpp's ggml q2_K on the 2-core Zen 5 VM, after cpu.idot's
# sums started at -offset * qsum (bench/results/cpu/idot-init-offset-2026-12-01-session29.txt): session 22's
# runner with the suite's two m = 512 rows of the 2-bit class and ggml's q2_K (plain and repacked buffers).
# Run from the repo root after `cmake --build --preset cpu` and `scripts/ggml-compare --build-only`:
#   GGML_CACHE=/tmp/ggmlcache RUNS=3 bash bench/results/cpu/ggml-2bit-prefill-2026-12-01-session29.sh
set -euo pipefail
out=${OUT_DIR:-bench/results/cpu/ggml-2bit-prefill-2026-12-01-session29}
suite=$(mktemp)
trap 'rm -f "$suite"' EXIT
grep -E '^qgemm m=512 .* wbits=2 group=128$' bench/suites/lowbit-vs-ggml.txt > "$suite"
OUT_DIR=$out SUITE=$suite IMPLS=cpu.lut,cpu.idot GGML_ARGS="--types q2_k --shapes 512x4096x4096,512x4096x14336" \
  bash "$(dirname "$0")/ggml-amd-2026-11-30-session22.sh" | tee "$out.md"
