#!/usr/bin/env bash
# Session 20: the m = 8, k = 4096 rows of bench/suites/lowbit-vs-ggml.txt at 2 bits and ternary (the 2-bit one
# is the last m = 8 row below the 2x goal) against ggml's q2_K and TQ2_0, three paired runs (ours, then
# ggml's), both cores. Run from the repo root after `cmake --build --preset cpu` and
# `scripts/ggml-compare --build-only`.
set -euo pipefail
T=build/cpu/tessel
out=${OUT_DIR:-bench/results/cpu/ggml-m8-2026-11-30-session20}
mkdir -p "$out"
grep -E '^qgemm m=8 n=4096 k=4096 (wbits=2|format=ternary )' bench/suites/lowbit-vs-ggml.txt >"$out/lines.txt"
for r in 1 2 3; do
  $T bench --suite "$out/lines.txt" --impl cpu.lut --threads 2 --max-seconds 1.5 --json "$out/t-r$r.json" >/dev/null
  GGML_CACHE=build/ggml scripts/ggml-compare -- --types q2_k,tq2_0 --shapes 8x4096x4096 --threads 2 --max-seconds 1.5 \
    --json "$out/g-r$r.json" >/dev/null
done
scripts/ggml-compare --table "$out/t-r1.json,$out/t-r2.json,$out/t-r3.json" "$out/g-r1.json,$out/g-r2.json,$out/g-r3.json"
