#!/usr/bin/env bash
# Session 8, device call 3 (issue 4): the recorded fusion run of the commit that lands this session's
# runner changes (rope's load_rows unrolled; one-stream map chains on 4 slots in column tiles of
# 32/64 threads; the per-row double division and square root from MUFU approximations plus Newton
# steps): scripts/gpu-fusion in full (tests, verify, odd shapes, memcheck, suite bench,
# torch-compare), preceded by an A/B of the suite against main's binary (old, 08c742b).
set -uo pipefail
tar xzf .devbinz/b.tgz && export LD_LIBRARY_PATH=$PWD/.devbin TESSEL_CACHE_DIR=$OUT TESSEL_COMMIT=82553a4
OUT=$OUT/ab timeout 150 scripts/gpu-ab bench/suites/fusion-h200.txt old=.devbin-old/tessel new=.devbin/tessel --rounds 1 --max-seconds 0.15 >"$OUT/ab.log" 2>&1; grep -A32 "^problem" "$OUT/ab.log"
BENCH_MAX_SECONDS=0.3 TORCH_MAX_SECONDS=0.3 OUT=$OUT/fusion timeout 380 scripts/gpu-fusion .devbin >"$OUT/gpu-fusion.log" 2>&1; echo "gpu-fusion rc=$?"
grep -E "PASSED rows|ERROR SUMMARY|step failed|==== done|PASSED .*tests|FAILED" "$OUT/gpu-fusion.log" | head -20
cd "$OUT" && tar czf /tmp/all.tgz . && find . -mindepth 1 -delete && mv /tmp/all.tgz .
