#!/usr/bin/env bash
# Session 6, device call 1 (issue 3): fp8 block scales copied into shared memory by the producer warp
# with cp.async on the stage's full barrier ("new"), against main at 3784a12 ("old": consumers load
# them from global memory). Runs on the device from the repo root with .devbinz carried.
set -uo pipefail
tar xzf .devbinz/b.tgz && export LD_LIBRARY_PATH=$PWD/.devbin TESSEL_CACHE_DIR=$OUT
T=.devbin/tessel
.devbin/tessel_cuda_tests --gtest_brief=1 >"$OUT/tests.log" 2>&1; tail -3 "$OUT/tests.log"
$T verify "gemm m=130 n=257 k=384 dtype=e4m3 scale=block b=nk" "gemm m=1 n=4096 k=4096 dtype=e4m3 scale=block b=nk" \
  "gemm m=200 n=136 k=80 dtype=e4m3 scale=block b=nk" "gemm m=300 n=520 k=1008 dtype=e4m3 scale=block b=nk" \
  "gemm m=257 n=1000 k=640 dtype=e4m3 scale=block b=nk bias=true act=silu residual=true" \
  "gemm m=4095 n=4097 k=4096 dtype=e4m3 scale=block b=nk" "gemm m=33 n=128 k=1152 dtype=e4m3 scale=block b=nk" \
  "gemm m=512 n=384 k=4096 dtype=e4m3 scale=tensor b=nk" --impl cuda.wgmma.fp8 >"$OUT/verify.log" 2>&1
grep -cE "^\s*(PASS|ok)" "$OUT/verify.log"; tail -4 "$OUT/verify.log"
$T verify --impl cuda.wgmma.fp8 >"$OUT/verify-samples.log" 2>&1; tail -2 "$OUT/verify-samples.log"
for tool in memcheck racecheck; do
  compute-sanitizer --tool $tool $T verify "gemm m=130 n=257 k=384 dtype=e4m3 scale=block b=nk" \
    --impl cuda.wgmma.fp8 >"$OUT/san-$tool.log" 2>&1; tail -2 "$OUT/san-$tool.log"
done
grep -E "scale=block|m=(4096|8192) n=\1 k=\1 dtype=e4m3 scale=tensor|m=4096 n=28672 .*tensor|m=1024 n=4096 k=14336 .*tensor" \
  bench/suites/gemm-h200-fp8.txt >"$OUT/suite.txt"
OUT=$OUT/ab scripts/gpu-ab "$OUT/suite.txt" old=.devbin/tessel-old new=.devbin/tessel \
  --impl 'cuda.wgmma.fp8,cublaslt' --max-seconds 0.3 --rounds 2 2>&1 | tail -40
