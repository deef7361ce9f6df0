#!/usr/bin/env bash
# Session 19, device call 3 (issue 3). Call 2's one-partial block loop ran 0.91-0.94x of main although
# call 1's experiment (x) ran 1.01-1.03x: call 2 loaded the next stage's scales between the wgmma
# commit and wait<0>, inside a branch (kb + 1 < k_blocks), where x loaded scale_b at the top of the
# stage. new = the loop with the next stage's scales loaded at the top of the stage, the index
# clamped instead of branched on. old = main 12e9fe8, x = call 1's experiment build, new = this build.
# 1. verify of new (samples and odd block shapes), memcheck; 2. old / x / new side by side, 3 rounds.
set -uo pipefail
tar xzf .devbinz/b.tgz && export TESSEL_CACHE_DIR=$OUT TESSEL_COMMIT=${TESSEL_COMMIT:-session19-call3}
export LD_LIBRARY_PATH=$PWD/.devbin
T=.devbin/tessel
timeout 200 $T verify --impl cuda.wgmma.fp8 2>&1 | grep -E "FAILED|ERROR|verify:" | sed "s/^/samples: /"
odd=("gemm m=1 n=200 k=512 dtype=e4m3 b=nk scale=block" "gemm m=65 n=96 k=128 dtype=e4m3 b=nk scale=block scale_layout=km"
  "gemm m=130 n=6008 k=1008 dtype=e4m3 b=nk scale=block" "gemm m=132 n=6008 k=1008 dtype=e4m3 b=nk scale=block scale_layout=km"
  "gemm m=77 n=200 k=272 dtype=e4m3 b=nk scale=block bias=true act=gelu" "gemm m=256 n=777 k=2064 dtype=e4m3 b=nk scale=block residual=true"
  "gemm m=4095 n=4097 k=4096 dtype=e4m3 b=nk scale=block" "gemm m=128 n=4104 k=256 dtype=e4m3 b=nk scale=block scale_layout=km")
timeout 200 $T verify "${odd[@]}" --impl cuda.wgmma.fp8 2>&1 | grep -E "FAILED|ERROR|verify:|rror" | sed "s/^/odd: /"
timeout 120 compute-sanitizer --tool memcheck --print-limit 5 $T verify "gemm m=130 n=200 k=384 dtype=e4m3 b=nk scale=block" \
  "gemm m=128 n=296 k=1024 dtype=e4m3 b=nk scale=block scale_layout=km" --impl cuda.wgmma.fp8 2>&1 | grep -E "ERROR SUMMARY|FAILED" | sed "s/^/memcheck: /"
echo "==== A/B"
OUT=$OUT/ab timeout 400 scripts/gpu-ab bench/results/h200/session19/fp8-block-lines-short.txt old=.devbin/tessel-old x=.devbin/tessel-x new=.devbin/tessel \
  --rounds 3 --max-seconds 0.3 --impl cuda.wgmma.fp8,cublaslt 2>&1 | tail -12
cd "$OUT" && tar czf /tmp/all.tgz . && find . -mindepth 1 -delete && mv /tmp/all.tgz .
