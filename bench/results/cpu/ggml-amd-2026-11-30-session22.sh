#!/usr/bin/env bash
# Session 22: the whole of bench/suites/lowbit-vs-ggml.txt against llama.cpp's ggml on the session's
# machine, an AMD EPYC VM with two cores (not the two SMT threads of one Sapphire Rapids core that
# sessions 3-21 measured on): AVX-512 with VNNI, VBMI and BF16, no AMX, a probed copy of 97.6 GB/s
# and read of 66.8 GB/s. Paired runs (ours, then ggml's), both cores. Run from the repo root after
# `cmake --build --preset cpu` and `scripts/ggml-compare --build-only`. Later runs reuse it with
# OUT_DIR, and SUITE, IMPLS and GGML_ARGS (ggml_matmul's options, e.g. --types) where they differ.
set -euo pipefail
T=build/cpu/tessel
out=${OUT_DIR:-bench/results/cpu/ggml-amd-2026-11-30-session22}
runs=${RUNS:-2}
mkdir -p "$out"
for r in $(seq 1 "$runs"); do
  $T bench --suite "${SUITE:-bench/suites/lowbit-vs-ggml.txt}" --impl "${IMPLS:-cpu.lut,cpu.idot,cpu.dequant}" --threads 2 \
    --max-seconds 1 --json "$out/t-r$r.json" >/dev/null
  # shellcheck disable=SC2086  # GGML_ARGS is a list of options
  GGML_CACHE=${GGML_CACHE:-build/ggml} scripts/ggml-compare -- ${GGML_ARGS:-} --threads 2 --max-seconds 1 \
    --json "$out/g-r$r.json" >/dev/null
done
t=$(ls "$out"/t-r*.json | paste -sd,) g=$(ls "$out"/g-r*.json | paste -sd,)
scripts/ggml-compare --table "$t" "$g"
