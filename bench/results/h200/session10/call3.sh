#!/usr/bin/env bash
# Session 10, device call 3 (issue 3): cuda.wgmma.skinny with two CTAs an SM (ctas_per_sm=2: half the ring
# each, 128-wide K stages) against one (the default), on the suite's m <= 16 rows, cuBLASLt in the same
# process; verify of the new variant first (m = 1, 8, 16, 32; K tails; fused epilogue; f32 out; splits).
set -uo pipefail
tar xzf .devbinz/b.tgz && export LD_LIBRARY_PATH=$PWD/.devbin TESSEL_CACHE_DIR=$OUT TESSEL_COMMIT=356d2a8+skinny2
S=bench/results/h200/session10
T=.devbin/tessel
timeout 100 $T verify "gemm m=16 n=28672 k=4096 dtype=bf16 b=nk" "gemm m=1 n=1000 k=1032 dtype=bf16 b=nk bias=true act=silu" \
  "gemm m=8 n=640 k=2048 dtype=bf16 b=nk out=f32" "gemm m=32 n=4096 k=4104 dtype=bf16 b=nk residual=true" \
  "gemm m=13 n=200 k=136 dtype=bf16 b=nk" --impl cuda.wgmma.skinny --config ctas_per_sm=2 >"$OUT/verify.log" 2>&1
echo "verify ctas_per_sm=2: $(tail -1 "$OUT/verify.log")"; grep -E "FAILED|error" "$OUT/verify.log" | head -3
timeout 60 $T verify "gemm m=16 n=4096 k=4096 dtype=bf16 b=nk" --impl cuda.wgmma.skinny --config ctas_per_sm=2,splits=4 >"$OUT/verify-split.log" 2>&1
echo "verify with splits: $(tail -1 "$OUT/verify-split.log")"
OUT=$OUT/ab timeout 300 scripts/gpu-ab $S/skinny2-ab.txt one=$T two="$T:--config ctas_per_sm=2" \
  --impl 'cuda.wgmma.skinny,cublaslt' --rounds 3 --max-seconds 0.15 >"$OUT/ab.log" 2>&1; grep -A16 "^problem" "$OUT/ab.log"
cd "$OUT" && tar czf /tmp/all.tgz . && find . -mindepth 1 -delete && mv /tmp/all.tgz .
