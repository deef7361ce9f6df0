#!/usr/bin/env bash
# Session 28: the block formats against llama.cpp's ggml (MXFP4, NVFP4, Q8_0) on the 2-core Zen 5 VM,
# paired runs (ours, then ggml's), both cores, the same cache flush on both sides: session 22's runner
# with this suite, our cpu.idot and cpu.dequant, and ggml's three types. Run from the repo root after
# `cmake --build --preset cpu` and `scripts/ggml-compare --build-only` (GGML_CACHE: its dir).
#   GGML_CACHE=/tmp/ggmlcache RUNS=2 bash bench/results/cpu/ggml-blockfmt-2026-12-01-session28.sh
set -euo pipefail
out=${OUT_DIR:-bench/results/cpu/ggml-blockfmt-2026-12-01-session28}
OUT_DIR=$out SUITE=bench/suites/blockfmt-vs-ggml.txt IMPLS=cpu.idot,cpu.dequant GGML_ARGS="--types mxfp4,nvfp4,q8_0" \
  bash "$(dirname "$0")/ggml-amd-2026-11-30-session22.sh" | tee "$out.md"
