#!/usr/bin/env bash
# Session 18, device call 3 (issue 4): ca59136 builds rmsnorm's cuda.fused from the chain.hpp that its new cpu.fused
# shares (the same chain as before, written once). x = main ca59136 built for CUDA, def = 30a1254.
# verify of every cuda.fused sample with x, then def against x on the suite's rmsnorm rows.
set -uo pipefail
tar xzf .devbinz/b.tgz && export TESSEL_CACHE_DIR=$OUT TESSEL_COMMIT=${TESSEL_COMMIT:-session18-call3}
export LD_LIBRARY_PATH=$PWD/.devbin
timeout 200 .devbin/tessel-x verify --impl cuda.fused >$OUT/verify-fused.log 2>&1; echo "verify rc $?"
grep -c "PASSED.*rmsnorm " $OUT/verify-fused.log | sed 's/^/rmsnorm PASSED: /'; grep -E "FAILED|error" $OUT/verify-fused.log | head
tail -1 $OUT/verify-fused.log
grep -E "^rmsnorm " bench/suites/fusion-h200.txt >$OUT/lines.txt
OUT=$OUT/ab timeout 240 scripts/gpu-ab $OUT/lines.txt def=.devbin/tessel x=.devbin/tessel-x --rounds 2 --max-seconds 0.3 2>&1 | tail -6
cd "$OUT" && tar czf /tmp/all.tgz . && find . -mindepth 1 -delete && mv /tmp/all.tgz .
