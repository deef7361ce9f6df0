#!/usr/bin/env bash
# Session 16: cpu.lut's ternary5 GEMV on the AVX2 path (two 16-entry pshufb tables a run) next to ternary on
# AVX2 and both formats on the native AVX3_DL path, n = k = 4096, group 128. Each process times every variant of
# bench/results/cpu/lut-gemv-probe.cpp interleaved (medians of ROUNDS); the four configurations alternate,
# twice. Build the probe first (its header has the command; it links build/cpu/libtessel.a).
#   usage: ROUNDS=15 bash bench/results/cpu/ternary5-avx2-2026-11-30-session16.sh > OUT.txt
set -uo pipefail
rounds=${ROUNDS:-15}
for pass in 1 2; do
  for cfg in "avx2 ternary5" "avx2 ternary" "native ternary5" "native ternary"; do
    set -- $cfg
    echo "== pass $pass: $1 $2"
    if [ "$1" = avx2 ]; then export PROBE_TARGET=avx2; else unset PROBE_TARGET; fi
    /tmp/lut-probe "qgemm m=1 n=4096 k=4096 format=$2 group=128" cpu.lut "$rounds" 2>&1 |
      grep -E "lut cold, pool warm|lut hot, pool warm|lut hot, 1 thread|read W cold, pool warm"
  done
done
