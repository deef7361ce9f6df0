#!/usr/bin/env bash
# Session 13, device call 4. new = .devbin: main 0bd9527 plus A's TMA box clamped to min(128, m) rows,
# 128 x 48 tiles with a TMA-store epilogue (store_via_smem_plain), chosen by default by wgmma_auto_tile_n,
# and the Wgmma.M64N48K64KMajorPlainTmaStore device test. old = .devbin-base (main's defaults).
# Correctness: CUDA unit tests, verify of odd shapes (default and tile_n=48), memcheck and racecheck.
# Then A/B old / new on ab4-lines.txt with cuBLASLt in each round (3 rounds).
set -uo pipefail
tar xzf .devbinz/b.tgz && export LD_LIBRARY_PATH=$PWD/.devbin TESSEL_CACHE_DIR=$OUT TESSEL_COMMIT=${TESSEL_COMMIT:-session13-call4}
.devbin/tessel_cuda_tests 2>&1 | grep -E "PASSED|FAILED|M64N48"
odd=("gemm m=1 n=100 k=72 dtype=bf16 b=nk" "gemm m=64 n=6144 k=4096 dtype=bf16 b=nk" "gemm m=100 n=1000 k=4104 dtype=bf16 b=nk bias=true act=gelu"
  "gemm m=7 n=200 k=64 dtype=bf16 b=kn out=f32" "gemm m=100 n=6008 k=1000 dtype=bf16 b=nk out=f32" "gemm m=127 n=6008 k=1000 dtype=bf16 b=nk"
  "gemm m=128 n=6144 k=4096 dtype=bf16 b=nk" "gemm m=64 n=5120 k=4096 dtype=bf16 b=nk out=f32 bias=true act=silu"
  "gemm m=256 n=3072 k=4104 dtype=bf16 b=nk residual=true" "gemm m=200 n=6000 k=520 dtype=bf16 b=nk out=f32"
  "gemm m=257 n=777 k=136 dtype=bf16 b=nk" "gemm m=130 n=100 k=72 dtype=bf16 b=nk residual=true" "gemm m=300 n=520 k=1000 dtype=bf16 b=kn")
.devbin/tessel verify "${odd[@]}" --impl cuda.wgmma 2>&1 | grep -E "FAILED|ERROR|verify:"
.devbin/tessel verify "${odd[@]}" --impl cuda.wgmma --config tile_n=48,epilogue=1 2>&1 | grep -E "FAILED|ERROR|verify:"
.devbin/tessel verify --impl 'cuda.wgmma*' 2>&1 | grep -E "FAILED|ERROR|verify:"
for tool in memcheck racecheck; do
  for cfg in tile_n=48 tile_n=64; do
    compute-sanitizer --tool $tool --print-limit 5 .devbin/tessel verify "gemm m=130 n=104 k=136 dtype=bf16 b=nk" \
      "gemm m=40 n=200 k=64 dtype=bf16 b=nk out=f32" "gemm m=300 n=296 k=200 dtype=bf16 b=nk" --impl cuda.wgmma --config $cfg 2>&1 |
      grep -E "ERROR SUMMARY|RACECHECK SUMMARY|FAILED" | sed "s/^/$tool $cfg: /"
  done
done
echo "==== A/B"
OUT=$OUT/ab scripts/gpu-ab bench/results/h200/session13/ab4-lines.txt old=.devbin-base/tessel new=.devbin/tessel \
  --impl cuda.wgmma,cublaslt --rounds 3 --max-seconds 0.25 2>&1 | tail -30
cd "$OUT" && tar czf /tmp/all.tgz . && find . -mindepth 1 -delete && mv /tmp/all.tgz .
