#!/usr/bin/env bash
# Session 11, device call 5: main 0cb4c9e (session 11's fusion changes: |x| as an operand, one division
# fewer, rope's loads before the trig, int8 writes without the clamp) plus the new device test
# FuseCuda.Int8QuantizingWriteEdgeRows. Every device test, then the recorded fusion run again on the final
# build (scripts/gpu-fusion in full: tests, verify, odd shapes, memcheck, the suite, torch-compare).
set -uo pipefail
tar xzf .devbinz/b.tgz && export LD_LIBRARY_PATH=$PWD/.devbin TESSEL_CACHE_DIR=$OUT TESSEL_COMMIT=${TESSEL_COMMIT:-session11-call5}
timeout 120 .devbin/tessel_cuda_tests --gtest_brief=1 >"$OUT/tests.log" 2>&1; echo "device tests rc=$?"; grep -E "FAILED|PASSED|tests ran" "$OUT/tests.log" | tail -5
BENCH_MAX_SECONDS=0.3 TORCH_MAX_SECONDS=0.3 OUT=$OUT/fusion timeout 420 scripts/gpu-fusion .devbin >"$OUT/gpu-fusion.log" 2>&1; echo "gpu-fusion rc=$?"
grep -E "PASSED rows|ERROR SUMMARY|step failed|==== done|PASSED .*tests|FAILED|passed," "$OUT/gpu-fusion.log" | head -20
grep -E "cuda.fused +[0-9]+ +[0-9.]+ +[0-9.]+x" "$OUT/gpu-fusion.log"
cd "$OUT" && tar czf /tmp/all.tgz . && find . -mindepth 1 -delete && mv /tmp/all.tgz .
