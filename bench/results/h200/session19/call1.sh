#!/usr/bin/env bash
# Session 19, device call 1 (issue 3, fp8 block scales at 0.85-0.94x cuBLASLt per-tensor). DeepGEMM's
# Hopper block-scaled kernel (the same 128 x 128 tiles, 1x128 / 128x128 scales) promotes from ONE partial
# accumulator: each warpgroup issues a stage's wgmmas, waits for them (wait<0>), then promotes, and
# relies on the other consumer warpgroup's batch to keep the tensor cores busy meanwhile. Ours keeps
# two partials (part[g % 2]) so that a warpgroup always has a batch in flight while it promotes.
# x = main built with -DTESSEL_FP8_ONE_PART=1: the block modes (mk and km) promote from one partial,
# DeepGEMM's order (scales read before the wgmmas, promotion after wait<0>); per-tensor is unchanged.
# 1. SASS counts of both builds' km block kernel; 2. verify of x on block-scaled shapes;
# 3. side by side, def (main) against x, 3 rounds, with cuBLASLt in every round.
set -uo pipefail
tar xzf .devbinz/b.tgz && export TESSEL_CACHE_DIR=$OUT TESSEL_COMMIT=${TESSEL_COMMIT:-session19-call1}
export LD_LIBRARY_PATH=$PWD/.devbin
for b in tessel tessel-x; do
  cuobjdump -sass .devbin/$b 2>/dev/null | awk '/Function : .*fp8_gemm_kernel.*Li128ELi5ELi3ELb1ELb0E/{p=1; print; next} /Function :/{p=0} p' >$OUT/sass-$b.txt
  echo "$b: $(grep -c FFMA $OUT/sass-$b.txt) FFMA, $(grep -c QGMMA $OUT/sass-$b.txt) QGMMA, $(grep -c 'WARPGROUP.DEPBAR' $OUT/sass-$b.txt) DEPBAR"
done
timeout 150 .devbin/tessel-x verify --impl cuda.wgmma.fp8 "gemm m=4096 n=4096 k=4096 dtype=e4m3 scale=block scale_layout=km b=nk" \
  "gemm m=4096 n=4096 k=4096 dtype=e4m3 scale=block b=nk" "gemm m=300 n=520 k=1008 dtype=e4m3 scale=block scale_layout=km b=nk" \
  "gemm m=257 n=384 k=2048 dtype=e4m3 scale=block b=nk bias=true" "gemm m=128 n=6144 k=4096 dtype=e4m3 scale=block scale_layout=km b=nk" \
  "gemm m=200 n=256 k=128 dtype=e4m3 scale=block b=nk" 2>&1 | tail -8
OUT=$OUT/ab timeout 400 scripts/gpu-ab bench/results/h200/session18/fp8-block-lines.txt def=.devbin/tessel x=.devbin/tessel-x \
  --rounds 3 --max-seconds 0.3 --impl cuda.wgmma.fp8,cublaslt 2>&1 | tail -30
cd "$OUT" && tar czf /tmp/all.tgz . && find . -mindepth 1 -delete && mv /tmp/all.tgz .
