#!/bin/bash
# The FP4 formats' GEMV on AVX2 without AVX-VNNI (pmaddubsw + pmaddwd; session 28) against the build before
# (the panel route there), both forced to that path on an AVX-512 machine: TESSEL_CPU_ISA=avx2 and
# TESSEL_CPU_NO_AVX_VNNI=1; with ISA=avx3, the AVX3 target (AVX-512 without VBMI/VNNI, e.g. Skylake-SP),
# which takes the same 32-byte GEMV. OLD and NEW are tessel binaries, alternating, tessel bench's cold medians.
#   OLD=/tmp/tessel-rows NEW=build/cpu/tessel ROUNDS=2 [ISA=avx3] bash bench/results/cpu/mx-gemv-avx2-2026-12-01-session28.sh
set -euo pipefail
: "${OLD:?}" "${NEW:=build/cpu/tessel}" "${ROUNDS:=2}"
export TESSEL_CPU_ISA=${ISA:-avx2} TESSEL_CPU_NO_AVX_VNNI=1
problems=("qgemm m=1 n=4096 k=4096 format=mxfp4" "qgemm m=1 n=4096 k=14336 format=mxfp4" "qgemm m=4 n=4096 k=4096 format=mxfp4"
          "qgemm m=1 n=4096 k=4096 format=nvfp4" "qgemm m=6 n=4096 k=4096 format=nvfp4" "qgemm m=8 n=4096 k=2048 format=mxfp4")
for r in $(seq "$ROUNDS"); do
  for b in OLD NEW; do
    echo -n "round $r $b | "
    "${!b}" bench "${problems[@]}" --impl cpu.idot,cpu.dequant --max-seconds 1 2>&1 | awk '/PASSED|FAILED/ {printf "%s %s %s | ", $2, $3, $4}'
    echo
  done
done
