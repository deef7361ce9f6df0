#!/usr/bin/env bash
# Session 9, device call 5: main ee90990 (the fusion change of 82498f3 and the tuner). Every device test,
# then the recorded fusion run (scripts/gpu-fusion in full: tests, verify, odd shapes, memcheck, the suite,
# torch-compare), then the first tessel tune runs on the GPU (issue 3's shapes below 0.95x), with the
# tuned configs checked against cuBLASLt by bench.
set -uo pipefail
tar xzf .devbinz/b.tgz && export LD_LIBRARY_PATH=$PWD/.devbin TESSEL_CACHE_DIR=$OUT TESSEL_COMMIT=ee90990
S=bench/results/h200/session9
T=.devbin/tessel
timeout 120 .devbin/tessel_cuda_tests --gtest_brief=1 >"$OUT/tests.log" 2>&1; echo "device tests rc=$?"; tail -1 "$OUT/tests.log"
BENCH_MAX_SECONDS=0.3 TORCH_MAX_SECONDS=0.3 OUT=$OUT/fusion timeout 400 scripts/gpu-fusion .devbin >"$OUT/gpu-fusion.log" 2>&1; echo "gpu-fusion rc=$?"
grep -E "PASSED rows|ERROR SUMMARY|step failed|==== done|PASSED .*tests|FAILED|passed," "$OUT/gpu-fusion.log" | head -20
timeout 100 $T tune --suite $S/tune-lines.txt --impl cuda.wgmma --budget 6 --max-seconds 0.2 --json "$OUT/tune-wgmma.json" >"$OUT/tune-wgmma.log" 2>&1; echo "tune rc=$?"; tail -30 "$OUT/tune-wgmma.log"
timeout 60 $T bench --suite $S/tune-lines.txt --impl 'cuda.wgmma,cublas*' --max-seconds 0.2 --json "$OUT/tuned-bench.json" >"$OUT/tuned-bench.log" 2>&1; grep -E "^gemm|cuda.wgmma|cublas|config" "$OUT/tuned-bench.log" | head -20
cd "$OUT" && tar czf /tmp/all.tgz . && find . -mindepth 1 -delete && mv /tmp/all.tgz .
