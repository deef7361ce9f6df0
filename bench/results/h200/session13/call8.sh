#!/usr/bin/env bash
# Session 13, device call 8. new = .devbin: main ded9655 plus L2 cache hints on the TMA loads (createpolicy
# evict_first for weight tiles read once, evict_last for A) in cuda.wgmma.skinny and, where m <= 128, in
# cuda.wgmma. old = .devbin-base: main c598d65 (the same kernels without hints).
# Correctness: CUDA unit tests, verify of both kernels on small and odd shapes, memcheck. Then A/B.
set -uo pipefail
tar xzf .devbinz/b.tgz && export LD_LIBRARY_PATH=$PWD/.devbin TESSEL_CACHE_DIR=$OUT TESSEL_COMMIT=${TESSEL_COMMIT:-session13-call8}
.devbin/tessel_cuda_tests 2>&1 | grep -E "PASSED|FAILED"
.devbin/tessel verify "gemm m=1 n=8192 k=8192 dtype=bf16 b=nk" "gemm m=12 n=17000 k=1032 dtype=bf16 b=nk out=f32" \
  "gemm m=100 n=6008 k=1000 dtype=bf16 b=nk" "gemm m=128 n=4096 k=4096 dtype=bf16 b=nk" "gemm m=300 n=520 k=1000 dtype=bf16 b=kn" \
  --impl cuda.wgmma,cuda.wgmma.skinny 2>&1 | grep -E "FAILED|ERROR|verify:"
compute-sanitizer --tool memcheck --print-limit 5 .devbin/tessel verify "gemm m=3 n=300 k=520 dtype=bf16 b=nk" \
  "gemm m=100 n=200 k=264 dtype=bf16 b=nk" --impl cuda.wgmma,cuda.wgmma.skinny 2>&1 | grep -E "ERROR SUMMARY|FAILED"
echo "==== A/B"
OUT=$OUT/ab scripts/gpu-ab bench/results/h200/session13/hint-lines.txt old=.devbin-base/tessel new=.devbin/tessel \
  --impl cuda.wgmma,cuda.wgmma.skinny --rounds 3 --max-seconds 0.2 2>&1 | tail -20
cd "$OUT" && tar czf /tmp/all.tgz . && find . -mindepth 1 -delete && mv /tmp/all.tgz .
