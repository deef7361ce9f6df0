#!/usr/bin/env bash
# Session 6, device call 5 (issue 3), call 4 rerun after its second fix: T = block scales loaded by the producer's TMA into the stage
# (a 128 x 4 box of scale_a, a 1 x 4 box of scale_b, 5 stages; consumers read them with ld.shared),
# against old (main at 3784a12). Calls 3 and 4 crashed (illegal instruction: a TMA box must start on
# 16 bytes in its row; boxes now start at kb & ~3). Every block line of the suite. Verify covers T
# (k_blocks % 4 == 0) and its fallback (the old consumer loads, k_blocks % 4 != 0); ncu profiles T.
set -uo pipefail
tar xzf .devbinz/b.tgz && export LD_LIBRARY_PATH=$PWD/.devbin TESSEL_CACHE_DIR=$OUT
T=.devbin/tessel
.devbin/tessel_cuda_tests --gtest_brief=1 >"$OUT/tests.log" 2>&1; tail -1 "$OUT/tests.log"
$T verify "gemm m=130 n=257 k=384 dtype=e4m3 scale=block b=nk" "gemm m=1 n=4096 k=4096 dtype=e4m3 scale=block b=nk" \
  "gemm m=200 n=136 k=80 dtype=e4m3 scale=block b=nk" "gemm m=300 n=520 k=1008 dtype=e4m3 scale=block b=nk" \
  "gemm m=257 n=1000 k=640 dtype=e4m3 scale=block b=nk bias=true act=silu residual=true" \
  "gemm m=257 n=1000 k=512 dtype=e4m3 scale=block b=nk bias=true act=gelu residual=true" \
  "gemm m=4095 n=4097 k=4096 dtype=e4m3 scale=block b=nk" "gemm m=33 n=128 k=1152 dtype=e4m3 scale=block b=nk" \
  "gemm m=129 n=200 k=2048 dtype=e4m3 scale=block b=nk" --impl cuda.wgmma.fp8 >"$OUT/verify.log" 2>&1; tail -1 "$OUT/verify.log"
$T verify --impl cuda.wgmma.fp8 >"$OUT/verify-samples.log" 2>&1; tail -1 "$OUT/verify-samples.log"
for tool in memcheck racecheck; do
  compute-sanitizer --tool $tool $T verify "gemm m=130 n=257 k=512 dtype=e4m3 scale=block b=nk" \
    --impl cuda.wgmma.fp8 >"$OUT/san-$tool.log" 2>&1; tail -1 "$OUT/san-$tool.log"
done
grep -E "scale=block|m=(4096|8192) n=\1 k=\1 dtype=e4m3 scale=tensor|m=4096 n=28672 .*tensor|m=1024 n=4096 k=14336 .*tensor" \
  bench/suites/gemm-h200-fp8.txt >"$OUT/suite.txt"
OUT=$OUT/ab scripts/gpu-ab "$OUT/suite.txt" old=.devbin/tessel-old T=.devbin/tessel \
  --impl 'cuda.wgmma.fp8,cublaslt' --max-seconds 0.3 --rounds 2 2>&1 | tail -24
for v in T; do  # old: calls 3 and 4 (ncu-old.txt)
  b=.devbin/tessel; [ $v = old ] && b=.devbin/tessel-old
  timeout 120 ncu --section SpeedOfLight --section WarpStateStats --section MemoryWorkloadAnalysis \
    -k regex:fp8_gemm_kernel -c 1 $b bench "gemm m=4096 n=4096 k=14336 dtype=e4m3 scale=block b=nk" \
    --impl cuda.wgmma.fp8 --max-seconds 0.05 >"$OUT/ncu-$v.txt" 2>&1
  grep -E "SM Busy|Compute \(SM\) Throughput|Stall|Warp Cycles Per Issued|L1/TEX Hit|Duration" "$OUT/ncu-$v.txt" | head -12
done
