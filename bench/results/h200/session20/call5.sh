#!/usr/bin/env bash
# Session 20, device call 5 (issue 3): which kernels cuBLASLt runs for fp8 block and per-tensor scales (names,
# grid, block, cluster), in launch order as ncu prints them (call 3's attempt sorted them and lost the names).
set -uo pipefail
tar xzf .devbinz/b.tgz && export TESSEL_CACHE_DIR=$OUT LD_LIBRARY_PATH=$PWD/.devbin
T=.devbin/tessel
for d in "gemm m=8192 n=8192 k=8192 dtype=e4m3 b=nk scale=block scale_layout=km" "gemm m=4096 n=4096 k=4096 dtype=e4m3 b=nk scale=block scale_layout=km" \
  "gemm m=8192 n=8192 k=8192 dtype=e4m3 b=nk scale=tensor"; do
  echo "==== $d"
  timeout 50 ncu --launch-count 5 --metrics gpu__time_duration.sum,launch__cluster_dim_x,launch__cluster_dim_y,launch__registers_per_thread \
    $T bench "$d" --impl cublaslt --max-seconds 0.01 2>&1 | grep -E "CC 9|duration|cluster_dim|registers" | cut -c1-230
done
