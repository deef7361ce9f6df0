#!/usr/bin/env bash
# Session 12, device call 3: the recorded runs at the session's code (TESSEL_COMMIT, given on the command line).
# Issue 3: the whole bf16 GEMM suite, cuda.wgmma* against cuBLAS and cuBLASLt in one process, every timed call
# checked (the skinny kernel's 128-row tiles are new at m = 16, n = 28672).
# Issue 4: scripts/gpu-fusion in full (device tests, verify of every sample and the odd shapes, memcheck, the
# suite, PyTorch eager and torch.compile on the same lines).
set -uo pipefail
tar xzf .devbinz/b.tgz && export LD_LIBRARY_PATH=$PWD/.devbin TESSEL_CACHE_DIR=$OUT TESSEL_COMMIT=${TESSEL_COMMIT:?}
T=.devbin/tessel
timeout 60 .devbin/tessel_cuda_tests --gtest_brief=1 >"$OUT/tests.log" 2>&1; echo "device tests rc=$?"; tail -1 "$OUT/tests.log"
timeout 240 $T bench --suite bench/suites/gemm-h200.txt --impl 'cuda.wgmma*,cublas*' --max-seconds 0.3 \
  --json "$OUT/gemm-2026-11-29-session12.json" >"$OUT/gemm-bf16.log" 2>&1; echo "bf16 bench rc=$?"
grep -cE "PASSED" "$OUT/gemm-bf16.log"; grep -E "FAILED|error" "$OUT/gemm-bf16.log" | head
BENCH_MAX_SECONDS=0.3 TORCH_MAX_SECONDS=0.3 OUT=$OUT/fusion timeout 300 scripts/gpu-fusion .devbin 2>&1 | tail -40
cd "$OUT" && tar czf /tmp/all.tgz . && find . -mindepth 1 -delete && mv /tmp/all.tgz .
