#!/usr/bin/env bash
# Session 6, device call 2 (issue 3): call 1's shared-memory scales were slower everywhere, per-tensor
# included. Variants: old = main at 3784a12; C = scales copied by a separate producer warp (warp 1) with
# cp.async, the TMA thread as in old (so per-tensor code is old's again); E = old with 5 stages for
# block scales (C's stage count), to separate the stage count from the copies.
set -uo pipefail
tar xzf .devbinz/b.tgz && export LD_LIBRARY_PATH=$PWD/.devbin TESSEL_CACHE_DIR=$OUT
T=.devbin/tessel
.devbin/tessel_cuda_tests --gtest_brief=1 >"$OUT/tests.log" 2>&1; tail -1 "$OUT/tests.log"
$T verify "gemm m=130 n=257 k=384 dtype=e4m3 scale=block b=nk" "gemm m=200 n=136 k=80 dtype=e4m3 scale=block b=nk" \
  "gemm m=257 n=1000 k=640 dtype=e4m3 scale=block b=nk bias=true act=silu residual=true" \
  "gemm m=4095 n=4097 k=4096 dtype=e4m3 scale=block b=nk" "gemm m=33 n=128 k=1152 dtype=e4m3 scale=block b=nk" \
  --impl cuda.wgmma.fp8 >"$OUT/verify.log" 2>&1; tail -1 "$OUT/verify.log"
compute-sanitizer --tool racecheck $T verify "gemm m=130 n=257 k=384 dtype=e4m3 scale=block b=nk" \
  --impl cuda.wgmma.fp8 >"$OUT/san-racecheck.log" 2>&1; tail -1 "$OUT/san-racecheck.log"
CUOBJ=$(command -v cuobjdump || ls /usr/local/cuda*/bin/cuobjdump 2>/dev/null | head -1)
for o in old C; do [ -n "$CUOBJ" ] && $CUOBJ -sass .devbin/fp8-$o.o >"$OUT/sass-$o.txt" 2>&1; done
grep -E "m=(4096|8192) n=\1 k=\1 dtype=e4m3|m=1024 n=28672 .*block|m=4096 n=4096 k=14336 .*block" \
  bench/suites/gemm-h200-fp8.txt >"$OUT/suite.txt"
OUT=$OUT/ab scripts/gpu-ab "$OUT/suite.txt" old=.devbin/tessel-old C=.devbin/tessel E=.devbin/tessel-E \
  --impl 'cuda.wgmma.fp8,cublaslt' --max-seconds 0.3 --rounds 2 2>&1 | tail -20
