#!/usr/bin/env bash
# Session 7, device call 8 (issue 3): the committed default for few rows of A (128 x 64 tiles, chosen
# by auto_tile_n; splits by auto_splits) verified and timed against cuBLASLt.
set -uo pipefail
tar xzf .devbinz/b.tgz && export LD_LIBRARY_PATH=$PWD/.devbin TESSEL_CACHE_DIR=$OUT
T=.devbin/tessel
timeout 60 .devbin/tessel_cuda_tests --gtest_brief=1 >"$OUT/tests.log" 2>&1; tail -1 "$OUT/tests.log"
timeout 150 $T verify "gemm m=128 n=6144 k=4096 dtype=bf16 b=nk" "gemm m=128 n=4096 k=14336 dtype=bf16 b=nk" \
  "gemm m=100 n=3000 k=1032 dtype=bf16 b=nk" "gemm m=256 n=4096 k=4096 dtype=bf16 b=nk bias=true act=gelu residual=true" \
  "gemm m=65 n=520 k=8192 dtype=bf16 b=nk out=f32" --impl cuda.wgmma 2>&1 | tail -1
timeout 120 $T verify --impl cuda.wgmma 2>&1 | tail -1
timeout 100 compute-sanitizer --tool racecheck $T verify "gemm m=128 n=1024 k=2048 dtype=bf16 b=nk" --impl cuda.wgmma 2>&1 | tail -1
cat >"$OUT/s.txt" <<'S'
gemm m=128 n=6144 k=4096 dtype=bf16 b=nk
gemm m=128 n=4096 k=4096 dtype=bf16 b=nk
gemm m=128 n=28672 k=4096 dtype=bf16 b=nk
gemm m=128 n=4096 k=14336 dtype=bf16 b=nk
S
OUT=$OUT/ab timeout 150 scripts/gpu-ab "$OUT/s.txt" new=$T --impl 'cuda.wgmma,cublaslt' --max-seconds 0.3 --rounds 3 2>&1 | tail -9
cd "$OUT" && tar czf /tmp/all.tgz . && find . -mindepth 1 -delete && mv /tmp/all.tgz .
