#!/usr/bin/env bash
# Session 22, device call 5 (issue 3): the skinny kernel's weight in 64-row TMA boxes, two a stage for
# 128-row tiles (one box of 128 rows before), after session 21's read-patterns-2.txt found a weight
# read in 128-row boxes 6% slower than in 64-row ones. old = the build before (call 3's, HEAD c202cbb's
# GEMM), new = this change. 1. verify new with 128-row tiles forced on odd shapes and at the default;
# 2. the m <= 16 suite rows with cuBLASLt beside, 3 interleaved rounds (tile_rows=128 forced too).
set -uo pipefail
mkdir -p .devbin-old && tar xzf .devbinz/old.tgz -C .devbin-old && tar xzf .devbinz/b.tgz
export TESSEL_CACHE_DIR=$OUT TESSEL_COMMIT=${TESSEL_COMMIT:-session22-call5}
export LD_LIBRARY_PATH=$PWD/.devbin
T=.devbin/tessel
O=.devbin-old/.devbin/tessel
D=bench/results/h200/session22
timeout 120 $T verify "gemm m=16 n=28672 k=4096 dtype=bf16 b=nk" "gemm m=13 n=1000 k=4104 dtype=bf16 b=nk" \
  "gemm m=9 n=200 k=72 dtype=bf16 b=nk" "gemm m=16 n=8256 k=1000 dtype=bf16 b=nk bias=true act=silu residual=true" \
  --impl cuda.wgmma.skinny --config tile_rows=128 2>&1 | grep -E "FAILED|ERROR|rror|verify:" | cut -c1-120
timeout 60 $T verify "gemm m=16 n=28672 k=4096 dtype=bf16 b=nk" "gemm m=1 n=8192 k=8192 dtype=bf16 b=nk" \
  --impl cuda.wgmma.skinny 2>&1 | grep -E "FAILED|ERROR|rror|verify:" | cut -c1-120
OUT=$OUT/ab timeout 200 scripts/gpu-ab bench/results/h200/session21/skinny-lines.txt old=$O new=$T \
  --rounds 3 --max-seconds 0.3 --impl cuda.wgmma.skinny,cublaslt 2>&1 | tail -10
OUT=$OUT/ab128 timeout 120 scripts/gpu-ab $D/skinny-wide-lines.txt "old=$O:--config tile_rows=128" \
  "new=$T:--config tile_rows=128" --rounds 3 --max-seconds 0.3 --impl cuda.wgmma.skinny 2>&1 | tail -6
cd "$OUT" && tar czf /tmp/all.tgz . && find . -mindepth 1 -delete && mv /tmp/all.tgz .
