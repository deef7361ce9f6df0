#!/usr/bin/env bash
# Session 28: the block formats against llama.cpp's ggml (MXFP4, NVFP4, Q8_0) on the 2-core Zen 5 VM,
# paired runs (ours, then ggml's), both cores, the same cache flush on both sides. Run from the repo
# root after `cmake --build --preset cpu` and `scripts/ggml-compare --build-only` (GGML_CACHE: its dir).
#   GGML_CACHE=/tmp/ggmlcache RUNS=2 bash bench/results/cpu/ggml-blockfmt-2026-12-01-session28.sh
set -euo pipefail
T=build/cpu/tessel
out=${OUT_DIR:-bench/results/cpu/ggml-blockfmt-2026-12-01-session28}
runs=${RUNS:-2}
mkdir -p "$out"
for r in $(seq 1 "$runs"); do
  $T bench --suite bench/suites/blockfmt-vs-ggml.txt --impl cpu.idot,cpu.dequant --threads 2 --max-seconds 1 \
    --json "$out/t-r$r.json" >/dev/null
  GGML_CACHE=${GGML_CACHE:-build/ggml} scripts/ggml-compare -- --types mxfp4,nvfp4,q8_0 --threads 2 --max-seconds 1 \
    --json "$out/g-r$r.json" >/dev/null
done
t=$(ls "$out"/t-r*.json | paste -sd,) g=$(ls "$out"/g-r*.json | paste -sd,)
scripts/ggml-compare --table "$t" "$g" | tee "$out.md"
