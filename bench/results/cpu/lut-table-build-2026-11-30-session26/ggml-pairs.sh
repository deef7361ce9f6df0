#!/usr/bin/env bash
# Session 26 (after the table build fixes): the 1- and 2-bit prefill rows against ggml's IQ1_S and q2_K,
# paired row by row (ours, then ggml's, ROUNDS rounds), both cores of the Zen 5 VM. Run from the repo root
# after `cmake --build --preset cpu` and `GGML_CACHE=/tmp/ggmlcache scripts/ggml-compare --build-only`.
set -euo pipefail
T=${T:-build/cpu/tessel}
G=${GGML_CACHE:-/tmp/ggmlcache}/ggml_matmul-clang
for r in $(seq 1 "${ROUNDS:-3}"); do
  for bits in 1 2; do
    type=$([ "$bits" = 1 ] && echo iq1_s || echo q2_k)
    for k in 4096 14336; do
      ours=$($T bench "qgemm m=512 n=4096 k=$k wbits=$bits group=128" --impl cpu.lut,cpu.idot --threads 2 --max-seconds 1 2>/dev/null |
        awk '/PASSED/ {printf "%s=%sms ", $2, $3}')
      theirs=$($G --threads 2 --types "$type" --shapes "512x4096x$k" --max-seconds 1 2>/dev/null | grep PASSED | awk '{printf "%s=%sms ", $6, $7}')
      echo "round $r bits=$bits k=$k | tessel: $ours| ggml: $theirs"
    done
  done
done
