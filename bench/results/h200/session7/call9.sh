#!/usr/bin/env bash
# Session 7, device call 9 (issue 3): 128 x 64 tiles with 8 stages instead of 7 (diagnostic env
# TESSEL_DIAG_STAGES8=1; 192 KiB of operands in flight instead of 168), at m = 128.
set -uo pipefail
tar xzf .devbinz/b.tgz && export LD_LIBRARY_PATH=$PWD/.devbin TESSEL_CACHE_DIR=$OUT
T=.devbin/tessel
printf '#!/bin/sh\nTESSEL_DIAG_STAGES8=1 exec %s "$@"\n' "$PWD/$T" >.devbin/tessel-s8 && chmod +x .devbin/tessel-s8
timeout 100 .devbin/tessel-s8 verify "gemm m=128 n=4096 k=4096 dtype=bf16 b=nk" "gemm m=100 n=3000 k=1032 dtype=bf16 b=nk" \
  "gemm m=128 n=1024 k=14336 dtype=bf16 b=nk bias=true act=silu" --impl cuda.wgmma 2>&1 | tail -1
cat >"$OUT/s.txt" <<'S'
gemm m=128 n=6144 k=4096 dtype=bf16 b=nk
gemm m=128 n=4096 k=4096 dtype=bf16 b=nk
gemm m=128 n=4096 k=14336 dtype=bf16 b=nk
S
OUT=$OUT/ab timeout 150 scripts/gpu-ab "$OUT/s.txt" s7=$T s8=.devbin/tessel-s8 --impl 'cuda.wgmma,cublaslt' \
  --max-seconds 0.3 --rounds 3 2>&1 | tail -8
cd "$OUT" && tar czf /tmp/all.tgz . && find . -mindepth 1 -delete && mv /tmp/all.tgz .
