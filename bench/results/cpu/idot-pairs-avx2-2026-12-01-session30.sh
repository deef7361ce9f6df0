#!/bin/bash
# cpu.idot without VNNI (AVX2 CPUs without AVX-VNNI, AVX-512 CPUs without VNNI, SSE4): codes below 128
# dotted by pmaddubsw with int16 sums (DotSpanPairs, session 30) against the build before (two
# pmaddwd a quad on even and odd bytes). OLD and NEW are `tessel` binaries alternating as in
# fuse-next-row-prefetch-2026-12-01-session29.sh, here with THREADS threads (the Zen 3 VM of session 30
# swung 1.5x between minutes, so ROUNDS rounds, summarized by ab-summary.py).
# Usage: OLD=/tmp/tessel-base NEW=build/cpu/tessel ROUNDS=5 THREADS=1 bash bench/results/cpu/idot-pairs-avx2-2026-12-01-session30.sh
set -euo pipefail
: "${OLD:?a tessel binary built before the change}" "${NEW:=build/cpu/tessel}" "${ROUNDS:=5}" "${THREADS:=2}"
problems=("qgemm m=512 n=4096 k=4096 wbits=2 group=128" "qgemm m=512 n=4096 k=4096 wbits=4 group=128"
          "qgemm m=512 n=4096 k=4096 wbits=6 group=128" "qgemm m=512 n=4096 k=4096 format=mxfp4"
          "qgemm m=64 n=4096 k=4096 wbits=3 group=128" "qgemm m=8 n=4096 k=4096 wbits=5 group=128"
          "qgemm m=512 n=4096 k=4096 wbits=8 group=128")
if [ -n "${PROBLEMS:-}" ]; then mapfile -t problems <<< "$PROBLEMS"; fi
for p in "${problems[@]}"; do
  for r in $(seq "$ROUNDS"); do
    for b in OLD NEW; do
      t=$("${!b}" bench "$p" --impl cpu.idot --threads "$THREADS" --max-seconds 0.5 2>&1 | awk '$1 == "PASSED" && $2 == "cpu.idot" {print $3, $4}')
      echo "$p | round $r | $b | $t"
    done
  done
done
