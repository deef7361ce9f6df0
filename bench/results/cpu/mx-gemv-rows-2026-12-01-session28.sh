#!/bin/bash
# The MX / nvfp4 GEMV at 5..8 rows of X where X's layout is small (MxGemvTakes, session 28) against the
# build before (the GEMV at 1..4 rows only, the panel route above). OLD and NEW are tessel binaries; each
# round runs the problems on both, one after the other (tessel bench's cold calls, medians).
#   OLD=/tmp/tessel-4da NEW=build/cpu/tessel ROUNDS=2 bash bench/results/cpu/mx-gemv-rows-2026-12-01-session28.sh
set -euo pipefail
: "${OLD:?}" "${NEW:=build/cpu/tessel}" "${ROUNDS:=2}"
problems=("qgemm m=5 n=4096 k=4096 format=mxfp4" "qgemm m=6 n=4096 k=4096 format=mxfp4" "qgemm m=7 n=4096 k=4096 format=mxfp4"
          "qgemm m=8 n=4096 k=4096 format=mxfp4" "qgemm m=8 n=4096 k=2048 format=mxfp4" "qgemm m=5 n=4096 k=14336 format=mxfp4"
          "qgemm m=6 n=4096 k=4096 format=nvfp4" "qgemm m=7 n=4096 k=4096 format=nvfp4" "qgemm m=5 n=4096 k=4096 format=mxint8"
          "qgemm m=6 n=4096 k=2048 format=mxint8")
for r in $(seq "$ROUNDS"); do
  for b in OLD NEW; do
    echo -n "round $r $b | "
    "${!b}" bench "${problems[@]}" --impl cpu.idot --max-seconds 1 2>&1 | awk '/PASSED|FAILED/ {printf "%s %s | ", $3, $4}'
    echo
  done
done
