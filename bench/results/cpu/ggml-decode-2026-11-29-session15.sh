#!/usr/bin/env bash
# Session 15: the decode rows (m = 1, 8) of bench/suites/lowbit-vs-ggml.txt, now with ternary5, against
# llama.cpp's ggml, two paired runs (ours, then ggml's, twice), both cores, with our pool warm by default
# (since session 10; sessions 13 and 14 ran the same script). Run from the repo root after
# `cmake --build --preset cpu` and `scripts/ggml-compare --build-only`. OUT_DIR picks the output folder
# (the session's second run: ggml-decode-2026-11-29-session15-run2.sh).
set -euo pipefail
T=build/cpu/tessel
out=${OUT_DIR:-bench/results/cpu/ggml-decode-2026-11-29-session15}
mkdir -p "$out"
grep -E '^qgemm m=(1|8) ' bench/suites/lowbit-vs-ggml.txt >"$out/decode.txt"
$T probe --refresh >"$out/probe-before.txt" 2>&1
for r in 1 2; do
  $T bench --suite "$out/decode.txt" --impl cpu.lut,cpu.idot --threads 2 --max-seconds 1.5 --json "$out/tessel-r$r.json" >/dev/null
  GGML_CACHE=build/ggml scripts/ggml-compare -- --shapes 1x4096x4096,8x4096x4096,1x4096x14336,8x4096x14336 \
    --threads 2 --max-seconds 1.5 --json "$out/ggml-r$r.json" >/dev/null
done
$T probe --refresh >"$out/probe-after.txt" 2>&1
scripts/ggml-compare --table "$out/tessel-r1.json,$out/tessel-r2.json" "$out/ggml-r1.json,$out/ggml-r2.json"
