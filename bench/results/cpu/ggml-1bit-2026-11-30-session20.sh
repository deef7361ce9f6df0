#!/usr/bin/env bash
# Session 20: the 1-bit rows of bench/suites/lowbit-vs-ggml.txt at m = 8 and 512 (where cpu.lut now runs
# row lanes) against ggml's fastest 1-bit type here (IQ1_S; Q1_0 took 4.5x longer at m = 512 in a
# trial run), three paired runs (ours, then ggml's), both cores. Run from the repo root after
# `cmake --build --preset cpu` and `scripts/ggml-compare --build-only`.
set -euo pipefail
T=build/cpu/tessel
out=${OUT_DIR:-bench/results/cpu/ggml-1bit-2026-11-30-session20}
mkdir -p "$out"
grep -E '^qgemm m=(8|512) .*wbits=1 ' bench/suites/lowbit-vs-ggml.txt >"$out/lines.txt"
for r in 1 2 3; do
  $T bench --suite "$out/lines.txt" --impl cpu.lut --threads 2 --max-seconds 1.5 --json "$out/t-r$r.json" >/dev/null
  GGML_CACHE=build/ggml scripts/ggml-compare -- --types iq1_s --shapes 8x4096x4096,8x4096x14336,512x4096x4096,512x4096x14336 \
    --threads 2 --max-seconds 1.5 --json "$out/g-r$r.json" >/dev/null
done
scripts/ggml-compare --table "$out/t-r1.json,$out/t-r2.json,$out/t-r3.json" "$out/g-r1.json,$out/g-r2.json,$out/g-r3.json"
