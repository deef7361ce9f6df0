#!/bin/bash
# cpu.idot's MX prefill: spans of 4 blocks with per-block scales (session 28) against the build before
# (one block per span). OLD and NEW are `tessel` binaries; each round runs every problem on both, one
# after the other (tessel bench's own flush, inputs from the spec's generator: E8M0 exponents near 127).
# Usage: OLD=/tmp/tessel-old NEW=build/cpu/tessel ROUNDS=3 bash bench/results/cpu/idot-mx-spans-2026-12-01-session28.sh
# (TESSEL_CPU_ISA=avx2 or avx3 in the environment holds both to that target.)
set -euo pipefail
: "${OLD:?a tessel binary built before the change}" "${NEW:=build/cpu/tessel}" "${ROUNDS:=3}"
problems=("qgemm m=512 n=4096 k=4096 format=mxfp4" "qgemm m=512 n=4096 k=4096 format=mxint8"
          "qgemm m=512 n=4096 k=14336 format=mxfp4" "qgemm m=64 n=4096 k=4096 format=mxfp4"
          "qgemm m=16 n=4096 k=4096 format=mxint8" "qgemm m=8 n=4096 k=4096 format=mxfp4")
for p in "${problems[@]}"; do
  for r in $(seq "$ROUNDS"); do
    for b in OLD NEW; do
      t=$("${!b}" bench "$p" --impl cpu.idot --max-seconds 1 2>&1 | awk '/PASSED +cpu.idot/ {print $3, $4}')
      echo "$p | round $r | $b | $t"
    done
  done
done
