#!/usr/bin/env bash
# Session 10, device call 1 (issue 3): split K as cluster pairs of 128 x 128 tiles (the peer's partial lands in
# the first CTA's A ring after a pair_ready hand-off). Device tests (including the never-run
# Cluster.PeerStoresLandBeforeTheBarrierPhase and session 9's ClusterLaunch refactor), verify of shapes that take
# the new pair (and forced ones), memcheck and racecheck, then an A/B: off = cluster_k=1, new = default,
# p128 = tile_n=128,cluster_k=2, each against cuBLASLt in the same process.
set -uo pipefail
tar xzf .devbinz/b.tgz && export LD_LIBRARY_PATH=$PWD/.devbin TESSEL_CACHE_DIR=$OUT TESSEL_COMMIT=356d2a8+pair128
S=bench/results/h200/session10
T=.devbin/tessel
timeout 120 .devbin/tessel_cuda_tests --gtest_brief=1 >"$OUT/tests.log" 2>&1; echo "device tests rc=$?"; tail -1 "$OUT/tests.log"; grep -E "FAILED" "$OUT/tests.log" | head -5
grep -E "PeerStores|ClusterPair" "$OUT/tests.log" | head
SH=("gemm m=128 n=6144 k=4096 dtype=bf16 b=nk" "gemm m=100 n=5000 k=1032 dtype=bf16 b=nk bias=true act=silu residual=true"
    "gemm m=65 n=6000 k=2048 dtype=bf16 b=nk out=f32" "gemm m=128 n=6144 k=1000 dtype=bf16 b=nk" "gemm m=1 n=4500 k=1024 dtype=bf16 b=nk"
    "gemm m=128 n=6150 k=4096 dtype=bf16 b=nk act=gelu" "gemm m=256 n=4096 k=2048 dtype=bf16 b=nk")
for cfg in "cluster_k=0" "cluster_k=2,epilogue=1"; do
  timeout 100 $T verify "${SH[@]}" --impl cuda.wgmma --config "$cfg" >"$OUT/verify-$cfg.log" 2>&1
  echo "verify $cfg: $(tail -1 "$OUT/verify-$cfg.log")"; grep -E "FAILED|error" "$OUT/verify-$cfg.log" | head -3
done
timeout 100 $T verify "gemm m=33 n=200 k=136 dtype=bf16 b=nk" "gemm m=128 n=4096 k=4096 dtype=bf16 b=nk" \
  "gemm m=64 n=300 k=1024 dtype=bf16 b=nk bias=true out=f32" --impl cuda.wgmma --config tile_n=128,cluster_k=2 >"$OUT/verify-forced.log" 2>&1
echo "verify forced 128 pairs: $(tail -1 "$OUT/verify-forced.log")"; grep -E "FAILED|error" "$OUT/verify-forced.log" | head -3
for tool in memcheck racecheck; do
  timeout 120 compute-sanitizer --tool $tool --error-exitcode 99 $T verify "gemm m=100 n=256 k=1032 dtype=bf16 b=nk bias=true" \
    "gemm m=64 n=384 k=1024 dtype=bf16 b=nk" --impl cuda.wgmma --config tile_n=128,cluster_k=2 >"$OUT/$tool.log" 2>&1; echo "$tool rc=$?"; tail -1 "$OUT/$tool.log"
done
OUT=$OUT/ab timeout 200 scripts/gpu-ab $S/pair128-ab.txt off="$T:--config cluster_k=1" new=$T p128="$T:--config tile_n=128,cluster_k=2" \
  --impl 'cuda.wgmma,cublaslt' --rounds 3 --max-seconds 0.15 >"$OUT/ab.log" 2>&1; grep -A12 "^problem" "$OUT/ab.log"
cd "$OUT" && tar czf /tmp/all.tgz . && find . -mindepth 1 -delete && mv /tmp/all.tgz .
