#!/usr/bin/env bash
# Session 19, device call 2 (issue 3): the block-scaled fp8 path rewritten on one partial accumulator
# (call 1's experiment made the code: mk and km scale_a, scale_b and mk scale_a loaded a stage ahead).
# new = this commit's build, old = main 12e9fe8. 1. verify every cuda.wgmma.fp8 sample and odd
# block-scaled shapes; 2. memcheck and racecheck on small block-scaled shapes; 3. old against new on the
# block rows with cuBLASLt and the per-tensor rows as controls, 3 rounds.
set -uo pipefail
tar xzf .devbinz/b.tgz && export TESSEL_CACHE_DIR=$OUT TESSEL_COMMIT=${TESSEL_COMMIT:-session19-call2}
export LD_LIBRARY_PATH=$PWD/.devbin
T=.devbin/tessel
timeout 200 $T verify --impl cuda.wgmma.fp8 2>&1 | grep -E "FAILED|ERROR|verify:" | sed "s/^/samples: /"
odd=("gemm m=1 n=200 k=512 dtype=e4m3 b=nk scale=block" "gemm m=65 n=96 k=128 dtype=e4m3 b=nk scale=block scale_layout=km"
  "gemm m=130 n=6008 k=1008 dtype=e4m3 b=nk scale=block" "gemm m=132 n=6008 k=1008 dtype=e4m3 b=nk scale=block scale_layout=km"
  "gemm m=77 n=200 k=272 dtype=e4m3 b=nk scale=block bias=true act=gelu" "gemm m=256 n=777 k=2064 dtype=e4m3 b=nk scale=block residual=true"
  "gemm m=300 n=520 k=1008 dtype=e4m3 b=nk scale=block scale_layout=km" "gemm m=4096 n=4096 k=4096 dtype=e4m3 b=nk scale=block scale_layout=km"
  "gemm m=4095 n=4097 k=4096 dtype=e4m3 b=nk scale=block" "gemm m=128 n=4104 k=256 dtype=e4m3 b=nk scale=block scale_layout=km")
timeout 200 $T verify "${odd[@]}" --impl cuda.wgmma.fp8 2>&1 | grep -E "FAILED|ERROR|verify:|rror" | sed "s/^/odd: /"
for tool in memcheck racecheck; do
  timeout 120 compute-sanitizer --tool $tool --print-limit 5 $T verify "gemm m=130 n=200 k=384 dtype=e4m3 b=nk scale=block" \
    "gemm m=77 n=200 k=272 dtype=e4m3 scale=block b=nk bias=true" "gemm m=128 n=296 k=1024 dtype=e4m3 b=nk scale=block scale_layout=km" \
    --impl cuda.wgmma.fp8 2>&1 | grep -E "ERROR SUMMARY|RACECHECK SUMMARY|FAILED" | sed "s/^/$tool: /"
done
echo "==== A/B"
OUT=$OUT/ab timeout 330 scripts/gpu-ab bench/results/h200/session19/fp8-block-lines.txt old=.devbin/tessel-old new=.devbin/tessel \
  --rounds 3 --max-seconds 0.3 --impl cuda.wgmma.fp8,cublaslt 2>&1 | tail -18
cd "$OUT" && tar czf /tmp/all.tgz . && find . -mindepth 1 -delete && mv /tmp/all.tgz .
