#!/usr/bin/env bash
# Session 10, device call 9 (issue 3): `tessel tune` over every config of cuda.wgmma.skinny (budget 8: all of them)
# on the m = 16 rows below 0.95x, then bench with the resulting database against cuBLASLt.
set -uo pipefail
tar xzf .devbinz/b.tgz && export LD_LIBRARY_PATH=$PWD/.devbin TESSEL_CACHE_DIR=$OUT TESSEL_COMMIT=08c3eca
S=bench/results/h200/session10
T=.devbin/tessel
timeout 200 $T tune --suite $S/skinny-tune-lines.txt --impl cuda.wgmma.skinny --budget 8 --max-seconds 0.15 \
  --db "$OUT/tune.json" --json "$OUT/tune-skinny.json" >"$OUT/tune.log" 2>&1; echo "tune rc=$?"; tail -40 "$OUT/tune.log"
timeout 100 $T bench --suite $S/skinny-tune-lines.txt --impl 'cuda.wgmma.skinny,cublaslt' --db "$OUT/tune.json" --max-seconds 0.2 \
  --json "$OUT/tuned-bench.json" >"$OUT/tuned-bench.log" 2>&1; grep -E "^gemm|PASSED|config" "$OUT/tuned-bench.log" | head -20
cd "$OUT" && tar czf /tmp/all.tgz . && find . -mindepth 1 -delete && mv /tmp/all.tgz .
