#!/usr/bin/env bash
# Session 7, device call 2 (issue 3): cuda.wgmma.skinny for 64 < m <= 128 (a 64-row weight tile against
# 128 token rows, wgmma m64n128) and two consumers (128 weight rows, X read once per CTA) at m <= 16,
# each under its K-split / stage-width configs, against cuda.wgmma and cuBLASLt; verify first.
set -uo pipefail
tar xzf .devbinz/b.tgz && export LD_LIBRARY_PATH=$PWD/.devbin TESSEL_CACHE_DIR=$OUT
T=.devbin/tessel
V() { $T verify "$@" 2>&1 | tail -1; }
for cfg in "splits=1,k_panels=0" "splits=2,k_panels=1" "splits=4,k_panels=0"; do
  V "gemm m=65 n=1000 k=640 dtype=bf16 b=nk" "gemm m=128 n=4096 k=4096 dtype=bf16 b=nk" \
    "gemm m=100 n=136 k=1032 dtype=bf16 b=nk bias=true act=silu residual=true" "gemm m=127 n=257 k=2056 dtype=bf16 b=nk out=f32" \
    --impl cuda.wgmma.skinny --config $cfg
done
for cfg in "consumers=2,splits=1" "consumers=2,splits=2,k_panels=1" "consumers=2,splits=4"; do
  V "gemm m=16 n=8192 k=8192 dtype=bf16 b=nk" "gemm m=1 n=200 k=1032 dtype=bf16 b=nk" \
    "gemm m=13 n=1000 k=4104 dtype=bf16 b=nk bias=true act=gelu residual=true" --impl cuda.wgmma.skinny --config $cfg
done
compute-sanitizer --tool racecheck $T verify "gemm m=100 n=300 k=1032 dtype=bf16 b=nk" --impl cuda.wgmma.skinny --config splits=2 2>&1 | tail -1
cat >"$OUT/m128.txt" <<'S'
gemm m=128 n=6144 k=4096 dtype=bf16 b=nk
gemm m=128 n=4096 k=4096 dtype=bf16 b=nk
gemm m=128 n=28672 k=4096 dtype=bf16 b=nk
gemm m=128 n=4096 k=14336 dtype=bf16 b=nk
S
cat >"$OUT/m16.txt" <<'S'
gemm m=1 n=8192 k=8192 dtype=bf16 b=nk
gemm m=16 n=8192 k=8192 dtype=bf16 b=nk
gemm m=16 n=6144 k=4096 dtype=bf16 b=nk
gemm m=16 n=4096 k=4096 dtype=bf16 b=nk
gemm m=16 n=28672 k=4096 dtype=bf16 b=nk
gemm m=16 n=4096 k=14336 dtype=bf16 b=nk
S
OUT=$OUT/m128 scripts/gpu-ab "$OUT/m128.txt" base=$T s1k0="$T:--config splits=1,k_panels=0" \
  s2k0="$T:--config splits=2,k_panels=0" s2k1="$T:--config splits=2,k_panels=1" s4k1="$T:--config splits=4,k_panels=1" \
  --impl 'cuda.wgmma,cuda.wgmma.skinny,cublaslt' --max-seconds 0.2 --rounds 2 2>&1 | tee "$OUT/m128.log" | tail -16
OUT=$OUT/m16 scripts/gpu-ab "$OUT/m16.txt" base=$T c2s1="$T:--config consumers=2,splits=1" \
  c2s2="$T:--config consumers=2,splits=2" c2s2k1="$T:--config consumers=2,splits=2,k_panels=1" \
  --impl 'cuda.wgmma.skinny,cublaslt' --max-seconds 0.2 --rounds 2 2>&1 | tee "$OUT/m16.log" | tail -16
