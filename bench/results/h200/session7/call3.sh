#!/usr/bin/env bash
# Session 7, device call 3 (issue 3): cuda.wgmma with clusters of two CTAs that share A by TMA
# multicast (config cluster=2), against lone CTAs (cluster=1, the default) and cuBLASLt. Device tests
# (incl. the new cluster-pair ring test), verify and racecheck first.
set -uo pipefail
tar xzf .devbinz/b.tgz && export LD_LIBRARY_PATH=$PWD/.devbin TESSEL_CACHE_DIR=$OUT
T=.devbin/tessel
timeout 120 .devbin/tessel_cuda_tests --gtest_brief=1 >"$OUT/tests.log" 2>&1; tail -3 "$OUT/tests.log"
V() { timeout 150 $T verify "$@" >>"$OUT/verify.log" 2>&1; tail -1 "$OUT/verify.log"; }
V "gemm m=128 n=4096 k=4096 dtype=bf16 b=nk" "gemm m=256 n=512 k=1024 dtype=bf16" "gemm m=300 n=1024 k=1008 dtype=bf16 b=nk" \
  "gemm m=257 n=1024 k=640 dtype=bf16 b=nk bias=true act=silu residual=true" "gemm m=129 n=512 k=4096 dtype=bf16 b=nk" \
  "gemm m=1000 n=2048 k=520 dtype=bf16" "gemm m=4095 n=4097 k=4096 dtype=bf16 b=nk" --impl cuda.wgmma --config cluster=2
V "gemm m=128 n=4096 k=4096 dtype=bf16 b=nk" "gemm m=130 n=1024 k=8192 dtype=bf16 b=nk" --impl cuda.wgmma --config cluster=2,splits=4
V "gemm m=200 n=1024 k=4096 dtype=bf16 b=nk" "gemm m=512 n=768 k=1024 dtype=bf16" --impl cuda.wgmma --config cluster=2,tile_n=128
V --impl cuda.wgmma --config cluster=2
timeout 120 compute-sanitizer --tool racecheck $T verify "gemm m=256 n=512 k=1024 dtype=bf16 b=nk" --impl cuda.wgmma \
  --config cluster=2 2>&1 | tail -1
timeout 120 compute-sanitizer --tool memcheck $T verify "gemm m=130 n=1024 k=2048 dtype=bf16 b=nk" --impl cuda.wgmma \
  --config cluster=2,splits=2 2>&1 | tail -1
cat >"$OUT/m128.txt" <<'S'
gemm m=128 n=6144 k=4096 dtype=bf16 b=nk
gemm m=128 n=4096 k=4096 dtype=bf16 b=nk
gemm m=128 n=28672 k=4096 dtype=bf16 b=nk
gemm m=128 n=4096 k=14336 dtype=bf16 b=nk
S
cat >"$OUT/big.txt" <<'S'
gemm m=4096 n=4096 k=4096 dtype=bf16
gemm m=8192 n=8192 k=8192 dtype=bf16
gemm m=4096 n=6144 k=4096 dtype=bf16 b=nk
gemm m=1024 n=28672 k=4096 dtype=bf16 b=nk
gemm m=1024 n=4096 k=14336 dtype=bf16 b=nk
S
OUT=$OUT/m128 timeout 200 scripts/gpu-ab "$OUT/m128.txt" base=$T c2="$T:--config cluster=2" c2s2="$T:--config cluster=2,splits=2" \
  c2s4="$T:--config cluster=2,splits=4" --impl 'cuda.wgmma,cublaslt' --max-seconds 0.2 --rounds 2 2>&1 | tail -10
OUT=$OUT/big timeout 200 scripts/gpu-ab "$OUT/big.txt" base=$T c2="$T:--config cluster=2" \
  --impl 'cuda.wgmma,cublaslt' --max-seconds 0.3 --rounds 2 2>&1 | tail -12
cd "$OUT" && tar czf all.tgz --exclude=all.tgz . && find . -mindepth 1 -not -name all.tgz -delete
