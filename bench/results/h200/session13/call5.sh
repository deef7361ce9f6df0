#!/usr/bin/env bash
# Session 13, device call 5. new = .devbin: main 4c46586 (A's box clamped, 48-wide tiles) plus the same
# clamp in cuda.wgmma.fp8. old = .devbin-base (main 0bd9527's defaults).
# Correctness: CUDA unit tests, fp8 verify on small-m and odd shapes (tensor, block mk and km), every
# fp8 sample, memcheck. Then A/B old / new on fp8-small-m-lines.txt (cuBLASLt alongside), and a probe:
# cuda.wgmma at its default (48-wide here) and 64-wide against cuda.wgmma.skinny and cuBLASLt at m <= 16.
set -uo pipefail
tar xzf .devbinz/b.tgz && export LD_LIBRARY_PATH=$PWD/.devbin TESSEL_CACHE_DIR=$OUT TESSEL_COMMIT=${TESSEL_COMMIT:-session13-call5}
.devbin/tessel_cuda_tests 2>&1 | grep -E "PASSED|FAILED"
fp8=("gemm m=1 n=4096 k=4096 dtype=e4m3 scale=block b=nk" "gemm m=1 n=4096 k=4096 dtype=e4m3 scale=tensor b=nk"
  "gemm m=1 n=4096 k=4096 dtype=e4m3 scale=block scale_layout=km b=nk" "gemm m=100 n=1000 k=512 dtype=e4m3 scale=block b=nk bias=true act=gelu"
  "gemm m=64 n=520 k=1008 dtype=e4m3 scale=tensor b=nk out=f32" "gemm m=36 n=1000 k=512 dtype=e4m3 scale=block scale_layout=km b=nk residual=true"
  "gemm m=127 n=256 k=384 dtype=e4m3 scale=tensor b=nk" "gemm m=130 n=257 k=384 dtype=e4m3 scale=block b=nk")
.devbin/tessel verify "${fp8[@]}" --impl cuda.wgmma.fp8 2>&1 | grep -E "FAILED|ERROR|verify:"
.devbin/tessel verify --impl cuda.wgmma.fp8 2>&1 | grep -E "FAILED|ERROR|verify:"
compute-sanitizer --tool memcheck --print-limit 5 .devbin/tessel verify "gemm m=40 n=256 k=384 dtype=e4m3 scale=block b=nk" \
  "gemm m=20 n=256 k=256 dtype=e4m3 scale=block scale_layout=km b=nk" "gemm m=77 n=200 k=272 dtype=e4m3 scale=tensor b=nk bias=true" \
  --impl cuda.wgmma.fp8 2>&1 | grep -E "ERROR SUMMARY|FAILED"
echo "==== A/B fp8"
OUT=$OUT/fp8 scripts/gpu-ab bench/results/h200/session13/fp8-small-m-lines.txt old=.devbin-base/tessel new=.devbin/tessel \
  --impl cuda.wgmma.fp8,cublaslt --rounds 3 --max-seconds 0.25 2>&1 | tail -12
echo "==== m <= 16 probe"
OUT=$OUT/m16 scripts/gpu-ab bench/results/h200/session13/m16-lines.txt auto=.devbin/tessel w64=".devbin/tessel:--config tile_n=64" \
  --impl cuda.wgmma,cuda.wgmma.skinny,cublaslt --rounds 2 --max-seconds 0.25 2>&1 | tail -17
cd "$OUT" && tar czf /tmp/all.tgz . && find . -mindepth 1 -delete && mv /tmp/all.tgz .
