#!/usr/bin/env bash
# Session 7, device call 5 (issue 3): cuda.wgmma.skinny with pairs of CTAs that share the rows of A by
# TMA multicast (config cluster=2, m <= 16), against lone CTAs and cuBLASLt. Verify and racecheck
# first; also every fp8 sample (the km sample with k=304 and m % 4 != 0 had not run on the device).
set -uo pipefail
tar xzf .devbinz/b.tgz && export LD_LIBRARY_PATH=$PWD/.devbin TESSEL_CACHE_DIR=$OUT
T=.devbin/tessel
timeout 120 .devbin/tessel_cuda_tests --gtest_brief=1 >"$OUT/tests.log" 2>&1; tail -1 "$OUT/tests.log"
V() { timeout 150 $T verify "$@" >>"$OUT/verify.log" 2>&1; tail -1 "$OUT/verify.log"; }
V "gemm m=16 n=8192 k=8192 dtype=bf16 b=nk" "gemm m=1 n=1024 k=1032 dtype=bf16 b=nk" "gemm m=13 n=1000 k=4104 dtype=bf16 b=nk bias=true act=gelu residual=true" \
  "gemm m=7 n=960 k=4096 dtype=bf16 b=nk out=f32" "gemm m=16 n=4096 k=4096 dtype=bf16 b=nk" --impl cuda.wgmma.skinny --config cluster=2
V "gemm m=16 n=1024 k=8192 dtype=bf16 b=nk" "gemm m=5 n=640 k=4096 dtype=bf16 b=nk" --impl cuda.wgmma.skinny --config cluster=2,splits=4
V --impl cuda.wgmma.fp8
timeout 120 compute-sanitizer --tool racecheck $T verify "gemm m=16 n=1024 k=2048 dtype=bf16 b=nk" --impl cuda.wgmma.skinny \
  --config cluster=2,splits=2 2>&1 | tail -1
cat >"$OUT/m16.txt" <<'S'
gemm m=1 n=8192 k=8192 dtype=bf16 b=nk
gemm m=8 n=8192 k=8192 dtype=bf16 b=nk
gemm m=16 n=8192 k=8192 dtype=bf16 b=nk
gemm m=16 n=6144 k=4096 dtype=bf16 b=nk
gemm m=16 n=4096 k=4096 dtype=bf16 b=nk
gemm m=16 n=28672 k=4096 dtype=bf16 b=nk
gemm m=16 n=4096 k=14336 dtype=bf16 b=nk
S
OUT=$OUT/ab timeout 240 scripts/gpu-ab "$OUT/m16.txt" base=$T cl2="$T:--config cluster=2" \
  --impl 'cuda.wgmma.skinny,cublaslt' --max-seconds 0.3 --rounds 3 2>&1 | tail -16
cd "$OUT" && tar czf /tmp/all.tgz . && find . -mindepth 1 -delete && mv /tmp/all.tgz .
