#!/usr/bin/env bash
# Session 13, device call 3. new = .devbin: main 0bd9527 plus (a) A's TMA box clamped to min(128, m)
# rows, (b) 128 x 48 tiles (tile_n=48, not the default yet) with a TMA-store epilogue through an
# unswizzled staging tile. old = .devbin-base: call 1's bundle (main's defaults, tile_n=48 staged).
# Correctness: CUDA unit tests, verify (default and tile_n=48) on odd and small-m shapes, split and pair
# paths, memcheck and racecheck. Then A/B old / new / new with tile_n=48, cuBLASLt in each round.
set -uo pipefail
tar xzf .devbinz/b.tgz && export LD_LIBRARY_PATH=$PWD/.devbin TESSEL_CACHE_DIR=$OUT TESSEL_COMMIT=${TESSEL_COMMIT:-session13-call3}
.devbin/tessel_cuda_tests 2>&1 | tail -3
odd=("gemm m=1 n=100 k=72 dtype=bf16 b=nk" "gemm m=64 n=6144 k=4096 dtype=bf16 b=nk" "gemm m=100 n=1000 k=4104 dtype=bf16 b=nk bias=true act=gelu"
  "gemm m=7 n=200 k=64 dtype=bf16 b=kn out=f32" "gemm m=100 n=6008 k=1000 dtype=bf16 b=nk out=f32" "gemm m=127 n=6008 k=1000 dtype=bf16 b=nk"
  "gemm m=257 n=777 k=136 dtype=bf16 b=nk" "gemm m=130 n=100 k=72 dtype=bf16 b=nk residual=true" "gemm m=300 n=520 k=1000 dtype=bf16 b=kn")
.devbin/tessel verify "${odd[@]}" --impl cuda.wgmma 2>&1 | tail -1
.devbin/tessel verify "${odd[@]}" --impl cuda.wgmma --config tile_n=48 2>&1 | grep -E "FAILED|ERROR|verify:"
.devbin/tessel verify "gemm m=50 n=1024 k=8192 dtype=bf16 b=nk" "gemm m=100 n=4096 k=4096 dtype=bf16 b=nk" --impl cuda.wgmma \
  --config splits=2,tile_n=64 2>&1 | grep -E "FAILED|ERROR|verify:"
.devbin/tessel verify "gemm m=60 n=4096 k=4096 dtype=bf16 b=nk" "gemm m=60 n=4096 k=4096 dtype=bf16 b=nk out=f32 bias=true" \
  --impl cuda.wgmma 2>&1 | grep -E "FAILED|ERROR|verify:|cluster|pair"
for tool in memcheck racecheck; do
  for cfg in tile_n=48 tile_n=64 tile_n=128; do
    compute-sanitizer --tool $tool --print-limit 5 .devbin/tessel verify "gemm m=130 n=104 k=136 dtype=bf16 b=nk" \
      "gemm m=40 n=200 k=64 dtype=bf16 b=nk out=f32" --impl cuda.wgmma --config $cfg 2>&1 | grep -E "ERROR SUMMARY|FAILED" | sed "s/^/$tool $cfg: /"
  done
done
echo "==== A/B"
OUT=$OUT/ab scripts/gpu-ab bench/results/h200/session13/ab3-lines.txt old=.devbin-base/tessel new=.devbin/tessel \
  new48=".devbin/tessel:--config tile_n=48" --impl cuda.wgmma,cublaslt --rounds 3 --max-seconds 0.25 2>&1 | tail -24
cd "$OUT" && tar czf /tmp/all.tgz . && find . -mindepth 1 -delete && mv /tmp/all.tgz .
