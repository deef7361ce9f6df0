#!/usr/bin/env bash
# Session 11, device call 1 (issue 4): rmsnorm_quant's instruction count. The new build folds |x| into
# the row maximum's FMNMX (fabsf on the device instead of a bit mask, one instruction an element) and
# takes one division per row and thread fewer in WriteQuant::finish (qmax / max instead of 1 / scale);
# ptxas: the 16384 x 8192 bf16 e4m3 kernel's path from 552 to 510 instructions a thread (32 elements).
# Correctness of the new build first (fuse device tests, verify of every cuda.fused sample and the odd
# shapes, memcheck), then old and new side by side (3 interleaved rounds) on the touched lines, then
# ncu of the new rmsnorm_quant at 16384 x 8192 (instructions per element, SM against DRAM).
set -uo pipefail
tar xzf .devbinz/b.tgz && export LD_LIBRARY_PATH=$PWD/.devbin TESSEL_CACHE_DIR=$OUT TESSEL_COMMIT=${TESSEL_COMMIT:-session11-call1}
SKIP_BENCH=1 OUT=$OUT/check scripts/gpu-fusion .devbin 2>&1 | tail -40
echo "==== A/B"
OUT=$OUT/ab scripts/gpu-ab bench/results/h200/session11/ab-lines.txt old=.devbin-base/tessel new=.devbin/tessel --rounds 3 --max-seconds 0.4 2>&1 | tail -25
echo "==== ncu"
timeout 120 ncu --section SpeedOfLight --section InstructionStats --section WarpStateStats -k "regex:stash_kernel" -c 1 \
  .devbin/tessel bench "rmsnorm_quant rows=16384 cols=8192 dtype=bf16" --impl cuda.fused --max-seconds 0.05 >"$OUT/ncu-rq.txt" 2>&1
echo "ncu rc=$?"
grep -E "Duration|Compute \(SM\) Throughput|DRAM Throughput|Executed Instructions  |Issue Slots Busy|Warp Cycles Per Issued" "$OUT/ncu-rq.txt" | head
cd "$OUT" && tar czf /tmp/all.tgz . && find . -mindepth 1 -delete && mv /tmp/all.tgz .
