#!/bin/bash
# nvfp4 on cpu.idot (session 28) against cpu.dequant, the route it had before, side by side in one
# `tessel bench` call per problem (cold: the harness flushes the caches between calls); mxfp4 on
# cpu.idot beside it for scale. Usage: ROUNDS=2 bash bench/results/cpu/idot-nvfp4-2026-12-01-session28.sh
set -euo pipefail
TESSEL=${TESSEL:-build/cpu/tessel}
ROUNDS=${ROUNDS:-2}
for r in $(seq "$ROUNDS"); do
  for p in "qgemm m=1 n=4096 k=4096" "qgemm m=4 n=4096 k=4096" "qgemm m=8 n=4096 k=4096" "qgemm m=64 n=4096 k=4096" \
           "qgemm m=512 n=4096 k=4096" "qgemm m=1 n=4096 k=14336" "qgemm m=512 n=4096 k=14336"; do
    "$TESSEL" bench "$p format=nvfp4" --impl cpu.idot,cpu.dequant --max-seconds 2 2>&1 | awk -v p="$p nvfp4 | round $r" '/PASSED|FAILED/ {print p " | " $2 " " $3 " " $4}'
    "$TESSEL" bench "$p format=mxfp4" --impl cpu.idot --max-seconds 1 2>&1 | awk -v p="$p mxfp4 | round $r" '/PASSED|FAILED/ {print p " | " $2 " " $3 " " $4}'
  done
done
