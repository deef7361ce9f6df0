#!/usr/bin/env bash
# Session 9, device call 7 (issue 3): the bound for a split-K at m = 128 whose reduction were free.
set -uo pipefail
tar xzf .devbinz/b.tgz && export LD_LIBRARY_PATH=$PWD/.devbin TESSEL_CACHE_DIR=$OUT TESSEL_COMMIT=c2d1595
T=.devbin/tessel
timeout 100 $T bench --suite bench/results/h200/session9/m128-probe.txt --impl 'cuda.wgmma,cublaslt' --untuned --max-seconds 0.3 \
  --json "$OUT/m128-probe.json" >"$OUT/m128-probe.log" 2>&1; grep -E "^gemm|PASSED|FAILED" "$OUT/m128-probe.log"
timeout 60 $T bench "gemm m=128 n=4096 k=4096 dtype=bf16 b=nk" --impl cuda.wgmma --config splits=2 --max-seconds 0.3 >"$OUT/split2.log" 2>&1; grep -E "PASSED|FAILED" "$OUT/split2.log"
cd "$OUT" && tar czf /tmp/all.tgz . && find . -mindepth 1 -delete && mv /tmp/all.tgz .
