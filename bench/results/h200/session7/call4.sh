#!/usr/bin/env bash
# Session 7, device call 4 (issue 3): call 3's clusters of two ran at half speed. Here the remote
# stage release is a CTA-scope arrive (no .release.cluster), and a diagnostic variant (nomc: env
# TESSEL_DIAG_NO_MULTICAST=1) keeps the pair's shared ring but loads both A halves in each CTA, to
# separate the multicast from the cross-CTA release.
set -uo pipefail
tar xzf .devbinz/b.tgz && export LD_LIBRARY_PATH=$PWD/.devbin TESSEL_CACHE_DIR=$OUT
T=.devbin/tessel
printf '#!/bin/sh\nTESSEL_DIAG_NO_MULTICAST=1 exec %s "$@"\n' "$PWD/$T" >.devbin/tessel-nomc && chmod +x .devbin/tessel-nomc
timeout 120 .devbin/tessel_cuda_tests --gtest_brief=1 >"$OUT/tests.log" 2>&1; tail -1 "$OUT/tests.log"
timeout 150 $T verify "gemm m=128 n=4096 k=4096 dtype=bf16 b=nk" "gemm m=256 n=512 k=1024 dtype=bf16" \
  "gemm m=257 n=1024 k=640 dtype=bf16 b=nk bias=true act=silu residual=true" --impl cuda.wgmma --config cluster=2 2>&1 | tail -1
cat >"$OUT/s.txt" <<'S'
gemm m=128 n=4096 k=4096 dtype=bf16 b=nk
gemm m=128 n=4096 k=14336 dtype=bf16 b=nk
gemm m=4096 n=4096 k=4096 dtype=bf16
gemm m=8192 n=8192 k=8192 dtype=bf16
S
OUT=$OUT/ab timeout 240 scripts/gpu-ab "$OUT/s.txt" base=$T c2="$T:--config cluster=2" nomc=".devbin/tessel-nomc:--config cluster=2" \
  --impl 'cuda.wgmma,cublaslt' --max-seconds 0.3 --rounds 2 2>&1 | tail -10
cd "$OUT" && tar czf /tmp/all.tgz . && find . -mindepth 1 -delete && mv /tmp/all.tgz .
