#!/usr/bin/env bash
# Session 14, device call 1. .devbin = main 859b35b plus cuda.wgmma's tile_n=96: 64 x 96 tiles whose two
# consumers share A's 64 rows and take 48 columns each (ColSplit). Correctness: CUDA unit tests, verify of odd
# shapes at tile_n=96,splits=1 (TMA-store and store_staged epilogues, f32 out, ragged n and K), memcheck and
# racecheck. Then the A/B on colsplit-lines.txt (default / tile_n=96 / cuBLASLt, 3 rounds), then the fp8
# suite's recorded run (not recorded since session 8; 128 x 64 per-tensor tiles since session 13).
set -uo pipefail
tar xzf .devbinz/b.tgz && export LD_LIBRARY_PATH=$PWD/.devbin TESSEL_CACHE_DIR=$OUT TESSEL_COMMIT=${TESSEL_COMMIT:-session14-call1}
T=.devbin/tessel
timeout 60 .devbin/tessel_cuda_tests --gtest_brief=1 >"$OUT/tests.log" 2>&1; echo "device tests rc=$?"; tail -1 "$OUT/tests.log"
odd=("gemm m=128 n=6144 k=4096 dtype=bf16 b=nk" "gemm m=100 n=1000 k=4104 dtype=bf16 b=nk" "gemm m=65 n=96 k=64 dtype=bf16 b=nk"
  "gemm m=128 n=6008 k=1000 dtype=bf16 b=nk out=f32" "gemm m=100 n=1000 k=4104 dtype=bf16 b=nk bias=true act=gelu"
  "gemm m=64 n=5120 k=4096 dtype=bf16 b=nk out=f32 bias=true act=silu" "gemm m=130 n=100 k=72 dtype=bf16 b=nk residual=true"
  "gemm m=257 n=777 k=136 dtype=bf16 b=nk" "gemm m=1 n=200 k=520 dtype=bf16 b=nk" "gemm m=200 n=6000 k=520 dtype=bf16 b=nk out=f32")
timeout 200 $T verify "${odd[@]}" --impl cuda.wgmma --config tile_n=96,splits=1 2>&1 | grep -E "FAILED|ERROR|verify:|rror"
for tool in memcheck racecheck; do
  timeout 120 compute-sanitizer --tool $tool --print-limit 5 $T verify "gemm m=130 n=200 k=136 dtype=bf16 b=nk" \
    "gemm m=40 n=200 k=64 dtype=bf16 b=nk out=f32 bias=true" "gemm m=100 n=296 k=200 dtype=bf16 b=nk" --impl cuda.wgmma \
    --config tile_n=96,splits=1 2>&1 | grep -E "ERROR SUMMARY|RACECHECK SUMMARY|FAILED" | sed "s/^/$tool: /"
done
echo "==== A/B"
OUT=$OUT/ab timeout 300 scripts/gpu-ab bench/results/h200/session14/colsplit-lines.txt def=.devbin/tessel \
  "cs96=.devbin/tessel:--config tile_n=96,splits=1" --impl cuda.wgmma,cublaslt --rounds 3 --max-seconds 0.2 2>&1 | tail -14
echo "==== fp8 suite"
timeout 150 $T bench --suite bench/suites/gemm-h200-fp8.txt --impl 'cuda.wgmma.fp8,cublaslt' --max-seconds 0.3 \
  --json "$OUT/gemm-fp8-2026-11-29-session14.json" >"$OUT/gemm-fp8.log" 2>&1; echo "fp8 bench rc=$?"
grep -cE "PASSED" "$OUT/gemm-fp8.log"; grep -E "FAILED|MISMATCH|error" "$OUT/gemm-fp8.log" | head
cd "$OUT" && tar czf /tmp/all.tgz . && find . -mindepth 1 -delete && mv /tmp/all.tgz .
