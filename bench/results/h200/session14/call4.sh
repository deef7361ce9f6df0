#!/usr/bin/env bash
# Session 14, device call 4: the recorded bf16 GEMM suite at main (TESSEL_COMMIT given on the command line;
# new since session 13's run: cuda.wgmma's 64 x 96 tiles at m = 128, n = 6144), cuda.wgmma* against cuBLAS and
# cuBLASLt in one process, every timed call checked.
set -uo pipefail
tar xzf .devbinz/b.tgz && export LD_LIBRARY_PATH=$PWD/.devbin TESSEL_CACHE_DIR=$OUT TESSEL_COMMIT=${TESSEL_COMMIT:?}
T=.devbin/tessel
timeout 280 $T bench --suite bench/suites/gemm-h200.txt --impl 'cuda.wgmma*,cublas*' --max-seconds 0.3 \
  --json "$OUT/gemm-2026-11-29-session14.json" >"$OUT/gemm-bf16.log" 2>&1; echo "bf16 bench rc=$?"
grep -cE "PASSED" "$OUT/gemm-bf16.log"; grep -E "FAILED|error" "$OUT/gemm-bf16.log" | head
cd "$OUT" && tar czf /tmp/all.tgz . && find . -mindepth 1 -delete && mv /tmp/all.tgz .
