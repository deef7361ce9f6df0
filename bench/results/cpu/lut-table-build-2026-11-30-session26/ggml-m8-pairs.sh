#!/usr/bin/env bash
# Session 26: the m = 8 rows at 2 bits and ternary5 (at or near 2x ggml before) against ggml's q2_K and TQ2_0,
# paired row by row (ours, then ggml's, ROUNDS rounds), both cores of the Zen 5 VM. Run from the repo root
# after `cmake --build --preset cpu` and `GGML_CACHE=/tmp/ggmlcache scripts/ggml-compare --build-only`.
set -euo pipefail
T=${T:-build/cpu/tessel}
G=${GGML_CACHE:-/tmp/ggmlcache}/ggml_matmul-clang
for r in $(seq 1 "${ROUNDS:-3}"); do
  for fmt in "wbits=2 group=128:q2_k" "format=ternary5:tq2_0"; do
    desc=${fmt%%:*} type=${fmt##*:}
    for k in 4096 14336; do
      ours=$($T bench "qgemm m=8 n=4096 k=$k $desc" --threads 2 --max-seconds 1 2>/dev/null |
        awk '/PASSED/ {printf "%s=%s%s ", $2, $3, $4}')
      theirs=$($G --threads 2 --types "$type" --shapes "8x4096x$k" --max-seconds 1 2>/dev/null | grep PASSED | awk '{printf "%s=%sms ", $6, $7}')
      echo "round $r $desc k=$k | tessel: $ours| ggml: $theirs"
    done
  done
done
