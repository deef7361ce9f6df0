#!/usr/bin/env bash
# Session 10, device call 4 (issue 3): the recorded run of the whole bf16 GEMM suite at main 356d2a8 (session
# 9's cluster pairs at m = 128, n = 4096 are its first appearance in a recorded suite run), every timed call
# checked by tessel bench, cuBLAS and cuBLASLt in the same process; the device tests first (session 9's
# ClusterLaunch refactor and Cluster.PeerStoresLandBeforeTheBarrierPhase on this exact build).
set -uo pipefail
tar xzf .devbinz/b.tgz && export LD_LIBRARY_PATH=$PWD/.devbin TESSEL_CACHE_DIR=$OUT TESSEL_COMMIT=356d2a8
T=.devbin/tessel
timeout 120 .devbin/tessel_cuda_tests --gtest_brief=1 >"$OUT/tests.log" 2>&1; echo "device tests rc=$?"; tail -1 "$OUT/tests.log"
timeout 300 $T bench --suite bench/suites/gemm-h200.txt --impl 'cuda.wgmma*,cublas*' --max-seconds 0.3 \
  --json "$OUT/gemm-2026-11-29-session10.json" >"$OUT/gemm-bf16.log" 2>&1; echo "bf16 bench rc=$?"
grep -cE "PASSED" "$OUT/gemm-bf16.log"; grep -E "FAILED|error" "$OUT/gemm-bf16.log" | head
cd "$OUT" && tar czf /tmp/all.tgz . && find . -mindepth 1 -delete && mv /tmp/all.tgz .
