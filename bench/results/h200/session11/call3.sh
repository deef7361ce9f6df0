#!/usr/bin/env bash
# Session 11, device call 3 (issue 4). (a) rope's short-row kernel with every row's loads issued before
# the sines and cosines (call 2's ncu: NeoX at 40% DRAM and 47% SM, neither saturated; its SASS issued
# the position load, then a hundred-odd instructions of trig, then the rows' loads): old (.devbin-base,
# main 0864065) against new (.devbin, the same plus include/tessel/fuse/rope.hpp's load order), 3
# interleaved rounds. (b) The recorded fusion run with the new build: scripts/gpu-fusion in full (fuse
# device tests, verify of every sample and the odd shapes, memcheck, the suite, torch-compare).
set -uo pipefail
tar xzf .devbinz/b.tgz && export LD_LIBRARY_PATH=$PWD/.devbin TESSEL_CACHE_DIR=$OUT TESSEL_COMMIT=${TESSEL_COMMIT:-session11-call3}
$PWD/.devbin/tessel probe --refresh | grep "gpu copy"
echo "==== A/B rope"
OUT=$OUT/ab scripts/gpu-ab bench/results/h200/session11/rope-lines.txt old=.devbin-base/tessel new=.devbin/tessel --rounds 3 --max-seconds 0.4 2>&1 | tail -6
echo "==== gpu-fusion"
BENCH_MAX_SECONDS=0.3 TORCH_MAX_SECONDS=0.3 OUT=$OUT/fusion timeout 420 scripts/gpu-fusion .devbin >"$OUT/gpu-fusion.log" 2>&1; echo "gpu-fusion rc=$?"
grep -E "PASSED rows|ERROR SUMMARY|step failed|==== done|PASSED .*tests|FAILED|passed," "$OUT/gpu-fusion.log" | head -20
tail -45 "$OUT/gpu-fusion.log"
cd "$OUT" && tar czf /tmp/all.tgz . && find . -mindepth 1 -delete && mv /tmp/all.tgz .
