#!/usr/bin/env bash
# Session 19, device call 4 (issue 3): the block loop as committed, from calls 1-3: km loads scale_b at
# the top of its own stage (call 1's x, 1.011-1.024x main), mk loads its global scales a stage ahead
# (call 3's new, 1.011-1.014x). new = this build, old = main 12e9fe8. 1. verify (samples, odd block
# shapes in both layouts), memcheck and racecheck; 2. old against new, 3 rounds.
set -uo pipefail
tar xzf .devbinz/b.tgz && export TESSEL_CACHE_DIR=$OUT TESSEL_COMMIT=${TESSEL_COMMIT:-session19-call4}
export LD_LIBRARY_PATH=$PWD/.devbin
T=.devbin/tessel
timeout 200 $T verify --impl cuda.wgmma.fp8 2>&1 | grep -E "FAILED|ERROR|verify:" | sed "s/^/samples: /"
odd=("gemm m=1 n=200 k=512 dtype=e4m3 b=nk scale=block" "gemm m=65 n=96 k=128 dtype=e4m3 b=nk scale=block scale_layout=km"
  "gemm m=130 n=6008 k=1008 dtype=e4m3 b=nk scale=block" "gemm m=132 n=6008 k=1008 dtype=e4m3 b=nk scale=block scale_layout=km"
  "gemm m=77 n=200 k=272 dtype=e4m3 b=nk scale=block bias=true act=gelu" "gemm m=256 n=777 k=2064 dtype=e4m3 b=nk scale=block residual=true"
  "gemm m=4095 n=4097 k=4096 dtype=e4m3 b=nk scale=block" "gemm m=128 n=4104 k=256 dtype=e4m3 b=nk scale=block scale_layout=km")
timeout 200 $T verify "${odd[@]}" --impl cuda.wgmma.fp8 2>&1 | grep -E "FAILED|ERROR|verify:|rror" | sed "s/^/odd: /"
for tool in memcheck racecheck; do
  timeout 100 compute-sanitizer --tool $tool --print-limit 5 $T verify "gemm m=130 n=200 k=384 dtype=e4m3 b=nk scale=block" \
    "gemm m=128 n=296 k=1024 dtype=e4m3 b=nk scale=block scale_layout=km" --impl cuda.wgmma.fp8 2>&1 | grep -E "ERROR SUMMARY|RACECHECK SUMMARY|FAILED" | sed "s/^/$tool: /"
done
echo "==== A/B"
OUT=$OUT/ab timeout 330 scripts/gpu-ab bench/results/h200/session19/fp8-block-lines-short.txt old=.devbin/tessel-old new=.devbin/tessel \
  --rounds 3 --max-seconds 0.3 --impl cuda.wgmma.fp8,cublaslt 2>&1 | tail -12
cd "$OUT" && tar czf /tmp/all.tgz . && find . -mindepth 1 -delete && mv /tmp/all.tgz .
