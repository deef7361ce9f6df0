#!/usr/bin/env bash
# Session 22: cpu.lut's software prefetch distance on the AMD EPYC VM (GEMV and m = 8 lines).
# A = kPrefetchBytes {NT1 4096, NT2 3072, NT4 1024} (the default), B = {8192, 6144, 2048}, C = {16384, 12288, 4096}.
set -euo pipefail
for r in 1 2 3; do
  for v in A B C; do
    ./tessel-$v bench --suite lines.txt --impl cpu.lut --threads 2 --max-seconds 0.6 --json pf-$v-r$r.json >/dev/null 2>&1
  done
done
