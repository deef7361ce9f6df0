#!/usr/bin/env bash
# Session 21, device call 6 (issue 3): the TMA maps' L2 promotion (tunable l2_promotion, 256 = the default
# until now, 128, 0 = none) on the bf16 GEMMs, after read-patterns.cu (calls 4-5) found a load-only
# weight stream 5-6% faster without the 256-byte promotion. 1. verify with 128 and 0; 2. the m <= 16 rows
# on cuda.wgmma.skinny (cuBLASLt beside the default), 3. cuda.wgmma rows; 3 interleaved rounds each.
set -uo pipefail
tar xzf .devbinz/b.tgz && export TESSEL_CACHE_DIR=$OUT TESSEL_COMMIT=${TESSEL_COMMIT:-session21-call6}
export LD_LIBRARY_PATH=$PWD/.devbin
T=.devbin/tessel
D=bench/results/h200/session21
for p in 128 0; do
  timeout 60 $T verify "gemm m=16 n=8192 k=8192 dtype=bf16 b=nk" "gemm m=5 n=1000 k=4104 dtype=bf16 b=nk" \
    --impl cuda.wgmma.skinny --config l2_promotion=$p 2>&1 | grep -E "FAILED|ERROR|rror|PASSED" | cut -c1-120 | sed "s/^/verify p$p: /"
  timeout 60 $T verify "gemm m=128 n=6144 k=4096 dtype=bf16 b=nk" "gemm m=4095 n=4097 k=4096 dtype=bf16 b=nk" \
    --impl cuda.wgmma --config l2_promotion=$p 2>&1 | grep -E "FAILED|ERROR|rror|PASSED" | cut -c1-120 | sed "s/^/verify p$p: /"
done
OUT=$OUT/skinny timeout 240 scripts/gpu-ab $D/skinny-lines.txt p256=$T "p128=$T:--config l2_promotion=128" \
  "p0=$T:--config l2_promotion=0" --rounds 3 --max-seconds 0.3 --impl cuda.wgmma.skinny,cublaslt 2>&1 | tail -16
OUT=$OUT/wgmma timeout 240 scripts/gpu-ab $D/wgmma-lines.txt p256=$T "p128=$T:--config l2_promotion=128" \
  --rounds 3 --max-seconds 0.3 --impl cuda.wgmma,cublaslt 2>&1 | tail -16
cd "$OUT" && tar czf /tmp/all.tgz . && find . -mindepth 1 -delete && mv /tmp/all.tgz .
