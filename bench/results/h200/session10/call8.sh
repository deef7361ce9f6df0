#!/usr/bin/env bash
# Session 10, device call 8 (issue 3, fp8 block scales): call 7 found the block kernel's extra cycles in dispatch
# stalls; in the SASS its promotion's FFMAs (partial, row scale, accumulator) read the scale from the register
# file on about half of them, where it shares a bank with the partial or the accumulator. new = the promotion as
# FMUL (partial times scale: the scale stays in the reuse cache on every one) then FADD (partial and accumulator
# in different banks), 64 more instructions a stage. Verify of new first (mk and km, odd shapes), then the A/B.
set -uo pipefail
tar xzf .devbinz/b.tgz && export LD_LIBRARY_PATH=$PWD/.devbin TESSEL_CACHE_DIR=$OUT TESSEL_COMMIT=0f04f73+fmul-fadd
S=bench/results/h200/session10
T=.devbin/tessel
timeout 120 $T verify "gemm m=256 n=512 k=1024 dtype=e4m3 scale=block scale_layout=km b=nk" \
  "gemm m=130 n=520 k=384 dtype=e4m3 scale=block b=nk" "gemm m=1024 n=6144 k=4096 dtype=e4m3 scale=block scale_layout=km b=nk" \
  "gemm m=4 n=256 k=8192 dtype=e4m3 scale=block b=nk bias=true" "gemm m=300 n=1000 k=1024 dtype=e4m3 scale=block b=nk" \
  --impl cuda.wgmma.fp8 >"$OUT/verify.log" 2>&1
echo "verify new: $(tail -1 "$OUT/verify.log")"; grep -E "FAILED|error" "$OUT/verify.log" | head -3
OUT=$OUT/ab timeout 400 scripts/gpu-ab $S/fp8-promote-ab.txt base=.devbin-base/tessel new=$T \
  --impl 'cuda.wgmma.fp8' --rounds 2 --max-seconds 0.2 >"$OUT/ab.log" 2>&1; grep -A8 "^problem" "$OUT/ab.log"
cd "$OUT" && tar czf /tmp/all.tgz . && find . -mindepth 1 -delete && mv /tmp/all.tgz .
