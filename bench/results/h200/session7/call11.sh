#!/usr/bin/env bash
# Session 7, device call 11 (issue 3): cuda.wgmma.skinny with 2 K splits where 64 weight tiles would
# leave half of the SMs idle (n = 4096): 128 CTAs are still one wave. Against the default (unsplit).
set -uo pipefail
tar xzf .devbinz/b.tgz && export LD_LIBRARY_PATH=$PWD/.devbin TESSEL_CACHE_DIR=$OUT
T=.devbin/tessel
cat >"$OUT/s.txt" <<'S'
gemm m=1 n=4096 k=4096 dtype=bf16 b=nk
gemm m=16 n=4096 k=4096 dtype=bf16 b=nk
gemm m=16 n=4096 k=14336 dtype=bf16 b=nk
S
OUT=$OUT/ab timeout 150 scripts/gpu-ab "$OUT/s.txt" base=$T s2="$T:--config splits=2" \
  --impl 'cuda.wgmma.skinny,cublaslt' --max-seconds 0.3 --rounds 3 2>&1 | tail -8
cd "$OUT" && tar czf /tmp/all.tgz . && find . -mindepth 1 -delete && mv /tmp/all.tgz .
