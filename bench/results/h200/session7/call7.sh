#!/usr/bin/env bash
# Session 7, device call 7 (issue 3): lesson 14's next step at m = 128: more, smaller stages.
# cuda.wgmma with 128 x 64 tiles (config tile_n=64, an experiment: 24 KiB stages, 7 in flight) under
# K splits 1 / 2 / 4, against the default (128 x 128, auto_splits) and cuBLASLt. Verify first.
set -uo pipefail
tar xzf .devbinz/b.tgz && export LD_LIBRARY_PATH=$PWD/.devbin TESSEL_CACHE_DIR=$OUT
T=.devbin/tessel
for c in "tile_n=64,splits=1" "tile_n=64,splits=2" "tile_n=64,splits=4"; do
  timeout 100 $T verify "gemm m=128 n=4096 k=4096 dtype=bf16 b=nk" "gemm m=300 n=1000 k=1032 dtype=bf16 b=nk" \
    "gemm m=257 n=520 k=2048 dtype=bf16 b=nk bias=true act=silu residual=true" "gemm m=130 n=192 k=640 dtype=bf16 b=nk out=f32" \
    --impl cuda.wgmma --config $c 2>&1 | tail -1
done
cat >"$OUT/s.txt" <<'S'
gemm m=128 n=6144 k=4096 dtype=bf16 b=nk
gemm m=128 n=4096 k=4096 dtype=bf16 b=nk
gemm m=128 n=28672 k=4096 dtype=bf16 b=nk
gemm m=128 n=4096 k=14336 dtype=bf16 b=nk
S
OUT=$OUT/ab timeout 200 scripts/gpu-ab "$OUT/s.txt" base=$T t64s1="$T:--config tile_n=64,splits=1" \
  t64s2="$T:--config tile_n=64,splits=2" t64s4="$T:--config tile_n=64,splits=4" \
  --impl 'cuda.wgmma,cublaslt' --max-seconds 0.3 --rounds 2 2>&1 | tail -10
cd "$OUT" && tar czf /tmp/all.tgz . && find . -mindepth 1 -delete && mv /tmp/all.tgz .
