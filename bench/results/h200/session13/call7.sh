#!/usr/bin/env bash
# Session 13, device call 7: the recorded runs at main c598d65 (TESSEL_COMMIT, given on the command line).
# Issue 3: the whole bf16 GEMM suite, cuda.wgmma* against cuBLAS and cuBLASLt in one process, every timed call
# checked (new since session 12: A's box clamped to m rows, 128 x 48 tiles at m = 128, n = 6144).
# Issue 4: scripts/gpu-fusion in full (device tests, verify of every sample and the odd shapes, memcheck, the
# suite, PyTorch eager and torch.compile on the same lines; new since the last recorded run: rope's trig once
# per token in a group, 12fe27d).
# Then msweep-lines.txt: cuda.wgmma against cuda.wgmma.skinny at 16 < m <= 64, 2 rounds.
set -uo pipefail
tar xzf .devbinz/b.tgz && export LD_LIBRARY_PATH=$PWD/.devbin TESSEL_CACHE_DIR=$OUT TESSEL_COMMIT=${TESSEL_COMMIT:?}
T=.devbin/tessel
timeout 60 .devbin/tessel_cuda_tests --gtest_brief=1 >"$OUT/tests.log" 2>&1; echo "device tests rc=$?"; tail -1 "$OUT/tests.log"
timeout 240 $T bench --suite bench/suites/gemm-h200.txt --impl 'cuda.wgmma*,cublas*' --max-seconds 0.3 \
  --json "$OUT/gemm-2026-11-29-session13.json" >"$OUT/gemm-bf16.log" 2>&1; echo "bf16 bench rc=$?"
grep -cE "PASSED" "$OUT/gemm-bf16.log"; grep -E "FAILED|error" "$OUT/gemm-bf16.log" | head
BENCH_MAX_SECONDS=0.3 TORCH_MAX_SECONDS=0.3 OUT=$OUT/fusion timeout 300 scripts/gpu-fusion .devbin 2>&1 | tail -40
echo "==== m sweep"
OUT=$OUT/msweep scripts/gpu-ab bench/results/h200/session13/msweep-lines.txt cur=.devbin/tessel \
  --impl cuda.wgmma,cuda.wgmma.skinny,cublaslt --rounds 2 --max-seconds 0.2 2>&1 | tail -32
cd "$OUT" && tar czf /tmp/all.tgz . && find . -mindepth 1 -delete && mv /tmp/all.tgz .
