#!/usr/bin/env bash
# One-off device call of 2026-11-28 (session 2): verify split-K and fp8 odd shapes, time the current fp8
# kernel and bf16 split-K against cuBLASLt in one process, memcheck a small fp8/bf16 verify.
set -uo pipefail
T=.devbin/tessel
nvidia-smi --query-gpu=name,clocks.sm,temperature.gpu,power.draw --format=csv
$T probe --refresh
echo "==== verify"
timeout 100 $T verify --impl 'cuda.wgmma*' "gemm m=128 n=4096 k=4096 dtype=bf16 b=nk" "gemm m=128 n=1024 k=14336 dtype=bf16 b=nk" \
  "gemm m=100 n=1000 k=4104 dtype=bf16 b=nk bias=true act=gelu" "gemm m=130 n=257 k=384 dtype=e4m3 scale=block b=nk" \
  "gemm m=1 n=4096 k=4096 dtype=e4m3 scale=tensor b=nk" "gemm m=257 n=1000 k=640 dtype=e4m3 scale=block b=nk bias=true act=silu residual=true" \
  "gemm m=512 n=384 k=4096 dtype=e4m3 scale=tensor b=nk"
echo "==== bench"
timeout 200 $T bench --suite .devbin/final-suite.txt --impl 'cuda.wgmma,cuda.wgmma.fp8,cublaslt' --max-seconds 0.4 --json $OUT/gemm-session2-2026-11-28.json
echo "==== memcheck"
timeout 60 compute-sanitizer --tool memcheck --error-exitcode 99 $T verify "gemm m=130 n=257 k=384 dtype=e4m3 scale=block b=nk" \
  "gemm m=77 n=200 k=272 dtype=e4m3 scale=tensor b=nk bias=true" "gemm m=130 n=264 k=1024 dtype=bf16 b=nk" --impl 'cuda.wgmma*' 2>&1 | tail -6
echo "memcheck rc=${PIPESTATUS[0]}"
