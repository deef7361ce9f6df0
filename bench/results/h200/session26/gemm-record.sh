#!/usr/bin/env bash
# Session 26's recorded gemm run on the H200 (device call 3): scripts/gpu-gemm in full (tile-layer tests,
# verify, fp8 and bf16 suites against cuBLASLt, sanitizers, SASS/spill evidence) from the bundle of call 2
# (.devbinz/b.tgz holding .devbin-rec, built at the commit in .devbin-rec/COMMIT).
set -uo pipefail
tar xzf .devbinz/b.tgz || exit 2
export TESSEL_CACHE_DIR=/tmp/tessel-cache
scripts/gpu-gemm .devbin-rec 2>&1 | tee "$OUT/gpu-gemm.log"
