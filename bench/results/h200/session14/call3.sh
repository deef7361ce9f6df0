#!/usr/bin/env bash
# Session 14, device call 3, at main with both ColSplit changes (TESSEL_COMMIT given on the command line):
# cuda.wgmma.fp8 takes 64 x 96 tiles by default at few rows of A (per-tensor scales), and fast accumulation by
# default only for one K block (k <= 128). First the old default (fast at k <= 512) on the shape whose heavy-tailed
# draw failed in call 2, then scripts/gpu-gemm --quick (device tests, verify of every gemm sample and the fp8 and
# bf16 odd shapes, fp8 squares, SASS and ptxas evidence), then the recorded fp8 suite.
set -uo pipefail
tar xzf .devbinz/b.tgz && export LD_LIBRARY_PATH=$PWD/.devbin TESSEL_CACHE_DIR=$OUT TESSEL_COMMIT=${TESSEL_COMMIT:?}
T=.devbin/tessel
echo "==== old default (tile_n=64, fast) at k = 256"
timeout 60 $T verify "gemm m=128 n=4104 k=256 dtype=e4m3 b=nk scale=tensor" --impl cuda.wgmma.fp8 --config tile_n=64,accum=2 2>&1 |
  grep -E "FAILED|verify:" | cut -c1-220
BENCH_MAX_SECONDS=0.3 OUT=$OUT/gemm timeout 300 scripts/gpu-gemm .devbin --quick 2>&1 | grep -E "^====|PASSED  \]|verify:|FAILED|failed|QGMMA|HGMMA|spill|rc=" | cut -c1-200 | head -60
echo "==== fp8 suite"
timeout 230 $T bench --suite bench/suites/gemm-h200-fp8.txt --impl 'cuda.wgmma.fp8,cublaslt' --max-seconds 0.3 \
  --json "$OUT/gemm-fp8-2026-11-29-session14.json" >"$OUT/gemm-fp8.log" 2>&1; echo "fp8 bench rc=$?"
grep -cE "PASSED" "$OUT/gemm-fp8.log"; grep -E "FAILED|MISMATCH|error" "$OUT/gemm-fp8.log" | head
cd "$OUT" && tar czf /tmp/all.tgz . && find . -mindepth 1 -delete && mv /tmp/all.tgz .
