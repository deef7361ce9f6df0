#!/usr/bin/env bash
# Session 17, device call 4 (issue 3: m <= 16, the last shape under 0.95x). The tuner over the skinny rows:
# `tessel tune` ranks every config of cuda.wgmma.skinny (24) and the first 30 of cuda.wgmma's by the cost model,
# measures them with bench's checked timing and keeps the fastest in a fresh tuning database; then bench runs
# the same rows with that database and, side by side, untuned, next to cuBLASLt (2 passes each).
set -uo pipefail
tar xzf .devbinz/b.tgz && export TESSEL_CACHE_DIR=$OUT TESSEL_COMMIT=${TESSEL_COMMIT:-session17-call4}
export LD_LIBRARY_PATH=$PWD/.devbin
rows=("gemm m=16 n=6144 k=4096 dtype=bf16 b=nk" "gemm m=8 n=8192 k=8192 dtype=bf16 b=nk" "gemm m=16 n=8192 k=8192 dtype=bf16 b=nk")
timeout 200 .devbin/tessel tune --impl cuda.wgmma.skinny --budget 24 --max-seconds 0.1 --json $OUT/tune-skinny.json "${rows[@]}" 2>&1 | tail -12
timeout 200 .devbin/tessel tune --impl cuda.wgmma --budget 30 --max-seconds 0.1 --json $OUT/tune-wgmma.json "${rows[@]}" 2>&1 | tail -12
for pass in 1 2; do
  echo "== pass $pass: tuned"
  timeout 60 .devbin/tessel bench --impl 'cuda.wgmma*,cublas*' --max-seconds 0.3 "${rows[@]}" 2>&1 | grep -E "PASSED|FAILED|^  gemm|speedup"
  echo "== pass $pass: untuned"
  timeout 60 .devbin/tessel bench --untuned --impl 'cuda.wgmma*,cublas*' --max-seconds 0.3 "${rows[@]}" 2>&1 | grep -E "PASSED|FAILED|^  gemm"
done
cd "$OUT" && tar czf /tmp/all.tgz . && find . -mindepth 1 -delete && mv /tmp/all.tgz .
