#!/usr/bin/env bash
# Session 21, device call 9 (issue 3): tile widths on the rows where ours trails cuBLASLt after call 8:
# fp8 m = 128, n = 28672 (224 tiles of 128 on 132 SMs) and m = 256, n = 6144 with 64-, 96-, 128- and
# 192-wide tiles; bf16 m <= 16, n = 28672 on the skinny kernel's 64- and 128-row tiles. 3 rounds.
set -uo pipefail
tar xzf .devbinz/b.tgz && export TESSEL_CACHE_DIR=$OUT TESSEL_COMMIT=${TESSEL_COMMIT:-session21-call9}
export LD_LIBRARY_PATH=$PWD/.devbin
T=.devbin/tessel
D=bench/results/h200/session21
OUT=$OUT/fp8 timeout 200 scripts/gpu-ab $D/fp8-m128-wide.txt def=$T "t64=$T:--config tile_n=64" "t96=$T:--config tile_n=96" \
  "t192=$T:--config tile_n=192" --rounds 3 --max-seconds 0.3 --impl cuda.wgmma.fp8,cublaslt 2>&1 | tail -8
OUT=$OUT/skinny timeout 150 scripts/gpu-ab $D/skinny-wide.txt def=$T "r64=$T:--config tile_rows=64" \
  --rounds 3 --max-seconds 0.3 --impl cuda.wgmma.skinny,cublaslt 2>&1 | tail -6
cd "$OUT" && tar czf /tmp/all.tgz . && find . -mindepth 1 -delete && mv /tmp/all.tgz .
