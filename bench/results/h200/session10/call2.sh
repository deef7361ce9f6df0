#!/usr/bin/env bash
# Session 10, device call 2 (issue 3): split K inside clusters of 2 to 4 CTAs (cluster_split_k.hpp: T + 1 CTAs
# share T tiles; partials to the tile's owner through distributed shared memory). Device tests, verify under
# the default and forced cluster sizes (odd shapes, fused epilogues, f32 out, K tails), memcheck and racecheck
# of clusters of 3 and 4, then an A/B: off = cluster_k=1, new = default, c3 / c4 = cluster_k=3 / 4.
set -uo pipefail
tar xzf .devbinz/b.tgz && export LD_LIBRARY_PATH=$PWD/.devbin TESSEL_CACHE_DIR=$OUT TESSEL_COMMIT=356d2a8+clusterk
S=bench/results/h200/session10
T=.devbin/tessel
timeout 120 .devbin/tessel_cuda_tests --gtest_brief=1 >"$OUT/tests.log" 2>&1; echo "device tests rc=$?"; tail -1 "$OUT/tests.log"; grep -E "FAILED" "$OUT/tests.log" | head -5
SH=("gemm m=128 n=6144 k=4096 dtype=bf16 b=nk" "gemm m=100 n=6100 k=1032 dtype=bf16 b=nk bias=true act=silu residual=true"
    "gemm m=65 n=6144 k=2048 dtype=bf16 b=nk out=f32" "gemm m=128 n=6140 k=4096 dtype=bf16 b=nk act=gelu"
    "gemm m=1 n=5120 k=1024 dtype=bf16 b=nk" "gemm m=128 n=5120 k=4096 dtype=bf16 b=nk" "gemm m=128 n=4096 k=1000 dtype=bf16 b=nk")
for cfg in "cluster_k=0" "cluster_k=4" "cluster_k=3,epilogue=1" "cluster_k=2,epilogue=1"; do
  timeout 100 $T verify "${SH[@]}" --impl cuda.wgmma --config "$cfg" >"$OUT/verify-$cfg.log" 2>&1
  echo "verify $cfg: $(tail -1 "$OUT/verify-$cfg.log")"; grep -E "FAILED|error" "$OUT/verify-$cfg.log" | head -3
done
timeout 60 $T verify --impl 'cuda.wgmma*' >"$OUT/verify-samples.log" 2>&1; echo "samples: $(tail -1 "$OUT/verify-samples.log")"
for cfg in cluster_k=4 cluster_k=3; do
  for tool in memcheck racecheck; do
    timeout 120 compute-sanitizer --tool $tool --error-exitcode 99 $T verify "gemm m=100 n=192 k=1032 dtype=bf16 b=nk bias=true" \
      "gemm m=64 n=384 k=1024 dtype=bf16 b=nk" --impl cuda.wgmma --config $cfg >"$OUT/$tool-$cfg.log" 2>&1; echo "$tool $cfg rc=$?"; tail -1 "$OUT/$tool-$cfg.log"
  done
done
OUT=$OUT/ab timeout 240 scripts/gpu-ab $S/clusterk-ab.txt off="$T:--config cluster_k=1" new=$T c3="$T:--config cluster_k=3" \
  c4="$T:--config cluster_k=4" --impl 'cuda.wgmma,cublaslt' --rounds 3 --max-seconds 0.15 >"$OUT/ab.log" 2>&1; grep -A12 "^problem" "$OUT/ab.log"
cd "$OUT" && tar czf /tmp/all.tgz . && find . -mindepth 1 -delete && mv /tmp/all.tgz .
