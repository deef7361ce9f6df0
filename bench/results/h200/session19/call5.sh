#!/usr/bin/env bash
# Session 19, device call 5 (issue 3): calls 1-4 moved the block-scaled loop to one partial accumulator
# (1.009-1.023x). Does per-tensor promotion (kPromote, every stage, FADD) gain the same? x = this
# commit built with -DTESSEL_FP8_ONE_PART_PROMOTE=1 (an experiment macro: kPromote on one partial,
# wait<0> before each stage's promotion). 1. verify x on per-tensor odd shapes (default tiles and the
# 64 x 96 ones); 2. def (this commit) against x on the per-tensor rows with cuBLASLt, 3 rounds.
set -uo pipefail
tar xzf .devbinz/b.tgz && export TESSEL_CACHE_DIR=$OUT TESSEL_COMMIT=${TESSEL_COMMIT:-session19-call5}
export LD_LIBRARY_PATH=$PWD/.devbin
X=.devbin/tessel-x
odd=("gemm m=128 n=6144 k=4096 dtype=e4m3 b=nk scale=tensor" "gemm m=100 n=1000 k=4096 dtype=e4m3 b=nk scale=tensor"
  "gemm m=130 n=6008 k=1008 dtype=e4m3 b=nk scale=tensor" "gemm m=77 n=200 k=272 dtype=e4m3 b=nk scale=tensor bias=true act=gelu"
  "gemm m=256 n=777 k=2064 dtype=e4m3 b=nk scale=tensor residual=true" "gemm m=4096 n=4096 k=4096 dtype=e4m3 b=nk scale=tensor")
timeout 100 $X verify "${odd[@]}" --impl cuda.wgmma.fp8 2>&1 | grep -E "FAILED|ERROR|verify:|rror" | sed "s/^/default: /"
timeout 60 $X verify "${odd[@]:0:3}" --impl cuda.wgmma.fp8 --config tile_n=96 2>&1 | grep -E "FAILED|ERROR|verify:|rror" | sed "s/^/tile_n=96: /"
echo "==== A/B"
OUT=$OUT/ab timeout 300 scripts/gpu-ab bench/results/h200/session19/fp8-tensor-lines.txt def=.devbin/tessel x=.devbin/tessel-x \
  --rounds 3 --max-seconds 0.25 --impl cuda.wgmma.fp8,cublaslt 2>&1 | tail -18
cd "$OUT" && tar czf /tmp/all.tgz . && find . -mindepth 1 -delete && mv /tmp/all.tgz .
