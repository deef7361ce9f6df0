#!/usr/bin/env bash
# Session 15, device call 4. Call 3 found the m = 16 rows' gap to cuBLASLt growing with K (0.2 us at k = 64, 2.9 us
# at n = k = 8192): a streaming rate (ours 4.0-4.1 TB/s incremental, cuBLASLt 4.37), not a fixed cost. Every CTA
# walks K from 0 in lockstep, so at any moment all of them read the same columns of rows 1 MiB apart. Here the
# producers of cuda.wgmma and cuda.wgmma.skinny start each tile's K walk at a rotated block (stagger-dropped.patch):
# tessel-stg1 spreads the starts evenly over K by tile index, tessel-stg2 rotates by 7 blocks a tile.
# .devbin/tessel = call 1's default build. Verify (both kernels, splits, odd K), memcheck, then the A/B on
# stagger-lines.txt, 3 rounds.
set -uo pipefail
tar xzf .devbinz/b.tgz && export LD_LIBRARY_PATH=$PWD/.devbin TESSEL_CACHE_DIR=$OUT TESSEL_COMMIT=${TESSEL_COMMIT:-session15-call4}
odd=("gemm m=16 n=6144 k=4096 dtype=bf16 b=nk" "gemm m=5 n=1000 k=4104 dtype=bf16 b=nk" "gemm m=16 n=6008 k=1000 dtype=bf16 b=nk out=f32"
  "gemm m=1 n=5120 k=4096 dtype=bf16 b=nk out=f32 bias=true act=silu" "gemm m=130 n=100 k=72 dtype=bf16 b=nk residual=true"
  "gemm m=128 n=6144 k=4096 dtype=bf16 b=nk" "gemm m=200 n=6000 k=520 dtype=bf16 b=nk out=f32" "gemm m=12 n=300 k=9000 dtype=bf16 b=nk")
for X in .devbin/tessel-stg1 .devbin/tessel-stg2; do
  echo "== $X"
  timeout 150 $X verify "${odd[@]}" --impl cuda.wgmma,cuda.wgmma.skinny 2>&1 | grep -E "FAILED|ERROR|verify:|rror"
  timeout 100 $X verify "gemm m=16 n=640 k=9000 dtype=bf16 b=nk" "gemm m=3 n=200 k=4104 dtype=bf16 b=nk" --impl cuda.wgmma.skinny \
    --config splits=4 2>&1 | grep -E "FAILED|ERROR|verify:|rror"
  timeout 100 compute-sanitizer --tool memcheck --print-limit 5 $X verify "gemm m=13 n=200 k=1036 dtype=bf16 b=nk" \
    "gemm m=40 n=200 k=640 dtype=bf16 b=nk out=f32 bias=true" --impl cuda.wgmma,cuda.wgmma.skinny 2>&1 | grep -E "ERROR SUMMARY|FAILED"
done
echo "==== A/B"
OUT=$OUT/ab timeout 400 scripts/gpu-ab bench/results/h200/session15/stagger-lines.txt def=.devbin/tessel stg1=.devbin/tessel-stg1 \
  stg2=.devbin/tessel-stg2 --impl cuda.wgmma,cuda.wgmma.skinny,cublaslt --rounds 3 --max-seconds 0.2 2>&1 | tail -22
cd "$OUT" && tar czf /tmp/all.tgz . && find . -mindepth 1 -delete && mv /tmp/all.tgz .
