#!/usr/bin/env bash
# Session 18, device call 2 (issue 4): the CPU-side change of 28acba9 (cast<bf16> by one AND, and a write right
# after a cast to its type without a second rounding) lives in the shared fusion headers; on the GPU its code
# path is meant to be unchanged (DVec stores keep their conversion). x = main 28acba9 built for CUDA, def = 30a1254.
# 1. verify of every cuda.fused sample with x, and odd rmsnorm_residual shapes;
# 2. def against x on the suite's rmsnorm_residual rows and the eltwise rows, 2 rounds.
set -uo pipefail
tar xzf .devbinz/b.tgz && export TESSEL_CACHE_DIR=$OUT TESSEL_COMMIT=${TESSEL_COMMIT:-session18-call2}
export LD_LIBRARY_PATH=$PWD/.devbin
timeout 200 .devbin/tessel-x verify --impl cuda.fused >$OUT/verify-fused.log 2>&1; echo "verify rc $?"
grep -c PASSED $OUT/verify-fused.log | sed 's/^/PASSED rows: /'; grep -E "FAILED|error" $OUT/verify-fused.log | head; tail -1 $OUT/verify-fused.log
timeout 100 .devbin/tessel-x verify --impl cuda.fused "rmsnorm_residual rows=3 cols=16385 dtype=bf16" \
  "rmsnorm_residual rows=16384 cols=8192 dtype=bf16" "rmsnorm_residual rows=1 cols=1 dtype=bf16" "rmsnorm_residual rows=7 cols=8200" 2>&1 | tail -5
grep -E "^rmsnorm_residual|^eltwise" bench/suites/fusion-h200.txt >$OUT/lines.txt
OUT=$OUT/ab timeout 300 scripts/gpu-ab $OUT/lines.txt def=.devbin/tessel x=.devbin/tessel-x --rounds 2 --max-seconds 0.3 2>&1 | tail -12
cd "$OUT" && tar czf /tmp/all.tgz . && find . -mindepth 1 -delete && mv /tmp/all.tgz .
