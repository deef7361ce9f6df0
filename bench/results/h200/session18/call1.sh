#!/usr/bin/env bash
# Session 18, device call 1 (issue 3, fp8 block scales at 0.85-0.94x cuBLASLt per-tensor). Session 10's
# ncu put the block kernel's extra cycles in dispatch stalls at its promotion's 64 FFMAs, whose scale
# register kept the operand reuse flag on only every other FFMA (the fragment alternates rows every two
# values). x = the promotion reordered: the first row's 32 values, then the second's.
# 1. SASS of both builds' km block kernel (FFMA count and how many carry .reuse);
# 2. verify of x on block-scaled shapes (km and mk, odd sizes, bias);
# 3. side by side, def (main) against x, 3 rounds, with cuBLASLt in every round.
set -uo pipefail
tar xzf .devbinz/b.tgz && export TESSEL_CACHE_DIR=$OUT TESSEL_COMMIT=${TESSEL_COMMIT:-session18-call1}
export LD_LIBRARY_PATH=$PWD/.devbin
for b in tessel tessel-x; do
  cuobjdump -sass .devbin/$b 2>/dev/null | awk '/Function : .*fp8_gemm_kernel.*Li128ELi5ELi3ELb1ELb0E/{p=1; print; next} /Function :/{p=0} p' >$OUT/sass-$b.txt
  echo "$b: $(grep -c FFMA $OUT/sass-$b.txt) FFMA, $(grep -E 'FFMA' $OUT/sass-$b.txt | grep -c reuse) with .reuse, $(grep -c QGMMA $OUT/sass-$b.txt) QGMMA"
done
timeout 120 .devbin/tessel-x verify --impl cuda.wgmma.fp8 "gemm m=4096 n=4096 k=4096 dtype=e4m3 scale=block scale_layout=km b=nk" \
  "gemm m=4096 n=4096 k=4096 dtype=e4m3 scale=block b=nk" "gemm m=300 n=520 k=1008 dtype=e4m3 scale=block scale_layout=km b=nk" \
  "gemm m=257 n=384 k=2048 dtype=e4m3 scale=block b=nk bias=true" "gemm m=128 n=6144 k=4096 dtype=e4m3 scale=block scale_layout=km b=nk" 2>&1 | tail -7
OUT=$OUT/ab timeout 420 scripts/gpu-ab bench/results/h200/session18/fp8-block-lines.txt def=.devbin/tessel x=.devbin/tessel-x \
  --rounds 3 --max-seconds 0.3 --impl cuda.wgmma.fp8,cublaslt 2>&1 | tail -30
cd "$OUT" && tar czf /tmp/all.tgz . && find . -mindepth 1 -delete && mv /tmp/all.tgz .
