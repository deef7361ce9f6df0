#!/usr/bin/env bash
# Session 7, device call 10 (issue 3): the goal "fp8 with 1x128 / 128x128 scaling >= 1.5x our own bf16
# GEMM at 8192^3", side by side in one process per round (main at the commit in the README).
set -uo pipefail
tar xzf .devbinz/b.tgz && export LD_LIBRARY_PATH=$PWD/.devbin TESSEL_CACHE_DIR=$OUT
T=.devbin/tessel
cat >"$OUT/s.txt" <<'S'
gemm m=8192 n=8192 k=8192 dtype=bf16 b=nk
gemm m=8192 n=8192 k=8192 dtype=e4m3 b=nk scale=block scale_layout=km
gemm m=8192 n=8192 k=8192 dtype=e4m3 b=nk scale=block
gemm m=8192 n=8192 k=8192 dtype=e4m3 b=nk scale=tensor
S
OUT=$OUT/ab timeout 200 scripts/gpu-ab "$OUT/s.txt" main=$T --impl 'cuda.wgmma,cuda.wgmma.fp8,cublaslt' \
  --max-seconds 0.5 --rounds 3 2>&1 | tail -9
cd "$OUT" && tar czf /tmp/all.tgz . && find . -mindepth 1 -delete && mv /tmp/all.tgz .
