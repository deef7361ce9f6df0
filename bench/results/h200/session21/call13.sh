#!/usr/bin/env bash
# Session 21, device call 13: every gemm sample on cuda.wgmma.fp8 at the session's defaults (128 x 64
# block tiles and K splits on few rows of A), plus the gpu-gemm script's fp8 odd shapes that now take them.
set -uo pipefail
tar xzf .devbinz/b.tgz && export TESSEL_CACHE_DIR=$OUT
export LD_LIBRARY_PATH=$PWD/.devbin
T=.devbin/tessel
timeout 100 $T verify --impl cuda.wgmma.fp8 2>&1 | tail -3
timeout 40 $T verify "gemm m=1 n=4096 k=4096 dtype=e4m3 scale=block b=nk" "gemm m=1 n=4096 k=14336 dtype=e4m3 scale=block b=nk scale_layout=km" \
  "gemm m=5 n=4096 k=14336 dtype=e4m3 scale=block b=nk" --impl cuda.wgmma.fp8 2>&1 | grep -E "PASSED|FAILED|rror" | cut -c1-120
