#!/usr/bin/env bash
# Session 9, device call 9 (issue 3): call 8's cluster pairs plus a cluster barrier before either CTA of
# a pair exits (call 8's racecheck reported the peer's stores as writes to a CTA that might have
# exited). base = call 6's binary (c2d1595). Device tests, verify, memcheck and racecheck, A/B.
set -uo pipefail
tar xzf .devbinz/b.tgz && export LD_LIBRARY_PATH=$PWD/.devbin TESSEL_CACHE_DIR=$OUT TESSEL_COMMIT=c2d1595+pair2
S=bench/results/h200/session9
T=.devbin/tessel
timeout 120 .devbin/tessel_cuda_tests --gtest_brief=1 >"$OUT/tests.log" 2>&1; echo "device tests rc=$?"; tail -1 "$OUT/tests.log"; grep -E "FAILED" "$OUT/tests.log" | head -5
SH=("gemm m=128 n=4096 k=4096 dtype=bf16 b=nk" "gemm m=100 n=1000 k=1032 dtype=bf16 b=nk bias=true act=silu residual=true"
    "gemm m=65 n=640 k=2048 dtype=bf16 b=nk out=f32" "gemm m=128 n=4096 k=1000 dtype=bf16 b=nk" "gemm m=1 n=64 k=128 dtype=bf16 b=nk"
    "gemm m=128 n=4100 k=4096 dtype=bf16 b=nk act=gelu" "gemm m=33 n=200 k=136 dtype=bf16 b=nk" "gemm m=128 n=4096 k=14336 dtype=bf16 b=nk")
for cfg in "cluster_k=0" "cluster_k=2,epilogue=1"; do
  timeout 100 $T verify "${SH[@]}" --impl cuda.wgmma --config "$cfg" >"$OUT/verify-$cfg.log" 2>&1
  echo "verify $cfg: $(tail -1 "$OUT/verify-$cfg.log")"; grep -E "FAILED|error" "$OUT/verify-$cfg.log" | head -3
done
for tool in memcheck racecheck; do
  timeout 120 compute-sanitizer --tool $tool --error-exitcode 99 $T verify "gemm m=100 n=256 k=1032 dtype=bf16 b=nk bias=true" \
    "gemm m=64 n=128 k=1024 dtype=bf16 b=nk" --impl cuda.wgmma --config cluster_k=2 >"$OUT/$tool.log" 2>&1; echo "$tool rc=$?"; tail -1 "$OUT/$tool.log"
done
OUT=$OUT/ab timeout 120 scripts/gpu-ab $S/pair-ab.txt base=.devbin-base/tessel new=$T \
  --impl 'cuda.wgmma,cublaslt' --rounds 3 --max-seconds 0.2 >"$OUT/ab.log" 2>&1; grep -A10 "^problem" "$OUT/ab.log"
cd "$OUT" && tar czf /tmp/all.tgz . && find . -mindepth 1 -delete && mv /tmp/all.tgz .
