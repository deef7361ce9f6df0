#!/usr/bin/env bash
# Session 12, device call 4 (diagnostic, main 939d52a, the bundle of call 3): Nsight Compute on the rows the
# recorded runs leave short. Issue 3: the skinny kernel at m = 16 on n = 6144 and n = 4096 (k = 4096: 96 and 64
# CTAs of 16 stages), n = 4096 at k = 14336 (64 CTAs of 56 stages) and n = k = 8192, and cuBLASLt's kernel at
# n = 6144: per-CTA streaming rate grows with K in the recorded suite (28-36 GB/s at k = 4096, 54 at k = 14336).
# Issue 4: rope NeoX and GPT-J at 4096 tokens (77% against 88% of copy).
set -uo pipefail
tar xzf .devbinz/b.tgz && export LD_LIBRARY_PATH=$PWD/.devbin TESSEL_CACHE_DIR=$OUT
OUT=$OUT/skinny scripts/gpu-ncu --impl cuda.wgmma.skinny --kernel skinny_gemm_kernel \
  "gemm m=16 n=6144 k=4096 dtype=bf16 b=nk" "gemm m=16 n=4096 k=4096 dtype=bf16 b=nk" \
  "gemm m=16 n=4096 k=14336 dtype=bf16 b=nk" "gemm m=16 n=8192 k=8192 dtype=bf16 b=nk"
OUT=$OUT/cublas scripts/gpu-ncu --impl cublaslt --kernel nvjet "gemm m=16 n=6144 k=4096 dtype=bf16 b=nk" \
  "gemm m=16 n=4096 k=14336 dtype=bf16 b=nk"
OUT=$OUT/rope scripts/gpu-ncu --impl cuda.fused --kernel short_rows_kernel \
  "rope tokens=4096 heads_q=24 heads_k=8 dim=128 dtype=bf16" "rope tokens=4096 heads_q=24 heads_k=8 dim=128 dtype=bf16 style=gptj"
cd "$OUT" && tar czf /tmp/all.tgz . && find . -mindepth 1 -delete && mv /tmp/all.tgz .
