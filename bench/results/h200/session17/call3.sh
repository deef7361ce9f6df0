#!/usr/bin/env bash
# Session 17, device call 3 (issue 3). The deferred epilogue: call 2's diagnostic build without an epilogue ran
# 4096^3 in 173.8 us against 177.3-179.6 (ncu, clocks unlocked at 1.57 GHz), so the epilogue costs cuda.wgmma
# about 3% there. .devbin/tessel-defer (-DTESSEL_EXP_DEFER_EPILOGUE=1) packs a finished tile to bf16 pairs and
# stores it one 64-column chunk per K block of the CTA's next tile, behind that tile's wgmma batches (bf16 output,
# TMA-store tiles); .devbin/tessel is the same tree with it off. Correctness first (verify on shapes with several
# tiles per CTA, K shorter than the four chunks, b=kn; compute-sanitizer racecheck and memcheck), then an A/B on
# the squares and the M >= 1024 layers, 3 interleaved rounds.
set -uo pipefail
tar xzf .devbinz/b.tgz && export TESSEL_CACHE_DIR=$OUT TESSEL_COMMIT=${TESSEL_COMMIT:-session17-call3}
export LD_LIBRARY_PATH=$PWD/.devbin
timeout 150 .devbin/tessel-defer verify --impl cuda.wgmma "gemm m=2048 n=4096 k=192 dtype=bf16 b=nk" \
  "gemm m=1152 n=4096 k=128 dtype=bf16" "gemm m=2048 n=4096 k=1024 dtype=bf16 b=nk" "gemm m=1000 n=4104 k=72 dtype=bf16" \
  "gemm m=2100 n=2056 k=520 dtype=bf16 b=nk" "gemm m=1024 n=8192 k=256 dtype=bf16 bias=1" "gemm m=2048 n=4096 k=256 dtype=bf16 out=f32" 2>&1 | tail -8
for tool in racecheck memcheck; do
  timeout 120 compute-sanitizer --tool $tool .devbin/tessel-defer verify --impl cuda.wgmma "gemm m=1152 n=4096 k=128 dtype=bf16" 2>&1 | tail -3
done
OUT=$OUT/ab timeout 300 scripts/gpu-ab bench/results/h200/session17/call2-lines.txt def=.devbin/tessel defer=.devbin/tessel-defer \
  --impl cuda.wgmma --rounds 3 --max-seconds 0.2 2>&1 | tail -16
cd "$OUT" && tar czf /tmp/all.tgz . && find . -mindepth 1 -delete && mv /tmp/all.tgz .
