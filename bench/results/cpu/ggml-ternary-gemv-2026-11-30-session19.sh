#!/usr/bin/env bash
# Session 19: the ternary GEMV rows of bench/suites/lowbit-vs-ggml.txt (m = 1; ternary and ternary5
# against ggml's TQ2_0 / TQ1_0), three paired runs (ours, then ggml's), both cores, after the ternary5
# GEMV's prefetch distance went to 1 KiB a stream. Run from the repo root after
# `cmake --build --preset cpu` and `scripts/ggml-compare --build-only`.
set -euo pipefail
T=build/cpu/tessel
out=${OUT_DIR:-bench/results/cpu/ggml-ternary-gemv-2026-11-30-session19}
mkdir -p "$out"
grep -E '^qgemm m=1 .*format=ternary' bench/suites/lowbit-vs-ggml.txt >"$out/lines.txt"
$T probe --refresh >"$out/probe-before.txt" 2>&1
for r in 1 2 3; do
  $T bench --suite "$out/lines.txt" --impl cpu.lut --threads 2 --max-seconds 1.5 --json "$out/tessel-r$r.json" >/dev/null
  GGML_CACHE=build/ggml scripts/ggml-compare -- --types tq2_0,tq1_0 --shapes 1x4096x4096,1x4096x14336 \
    --threads 2 --max-seconds 1.5 --json "$out/ggml-r$r.json" >/dev/null
done
$T probe --refresh >"$out/probe-after.txt" 2>&1
scripts/ggml-compare --table "$out/tessel-r1.json,$out/tessel-r2.json,$out/tessel-r3.json" \
  "$out/ggml-r1.json,$out/ggml-r2.json,$out/ggml-r3.json"
