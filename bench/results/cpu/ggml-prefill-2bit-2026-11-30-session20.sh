#!/usr/bin/env bash
# Session 20: the m = 512 rows of bench/suites/lowbit-vs-ggml.txt at 2 bits and ternary (cpu.lut's row lanes
# from m = 64) against ggml's q2_K and TQ2_0, three paired runs (ours, then ggml's), both cores. Run from
# the repo root after `cmake --build --preset cpu` and `scripts/ggml-compare --build-only`.
set -euo pipefail
T=build/cpu/tessel
out=${OUT_DIR:-bench/results/cpu/ggml-prefill-2bit-2026-11-30-session20}
mkdir -p "$out"
grep -E '^qgemm m=512 .*(wbits=2|format=ternary) ' bench/suites/lowbit-vs-ggml.txt >"$out/lines.txt"
for r in 1 2 3; do
  $T bench --suite "$out/lines.txt" --impl cpu.lut --threads 2 --max-seconds 1.5 --json "$out/t-r$r.json" >/dev/null
  GGML_CACHE=build/ggml scripts/ggml-compare -- --types q2_k,tq2_0 --shapes 512x4096x4096,512x4096x14336 \
    --threads 2 --max-seconds 1.5 --json "$out/g-r$r.json" >/dev/null
done
scripts/ggml-compare --table "$out/t-r1.json,$out/t-r2.json,$out/t-r3.json" "$out/g-r1.json,$out/g-r2.json,$out/g-r3.json"
