#!/usr/bin/env bash
# Session 17, device call 2 (issue 3: the 780 TFLOP/s goal at 4096^3 and the margin over cuBLASLt).
# 1. What the epilogue costs cuda.wgmma: ncu kernel durations (clocks unlocked, caches flushed before each launch) of
#    .devbin/tessel (main) and .devbin/tessel-noepi (a diagnostic build whose consumers skip the epilogue: wrong
#    results, so bench stops after its first check; ncu has the launches by then) at 4096^3 and 8192^3.
# 2. The raster group (L2-aware swizzle width, tunable raster_group 8 = default, 4, 16) on the squares and the
#    M >= 1024 layers (call2-lines.txt), 2 interleaved rounds, cuda.wgmma only.
set -uo pipefail
tar xzf .devbinz/b.tgz && export TESSEL_CACHE_DIR=$OUT TESSEL_COMMIT=${TESSEL_COMMIT:-session17-call2}
export LD_LIBRARY_PATH=$PWD/.devbin
for b in tessel tessel-noepi; do
  for s in 4096 8192; do
    echo "== $b $s^3"
    timeout 100 ncu --clock-control none --cache-control all -k regex:wgmma_gemm --launch-count 6 \
      --metrics gpu__time_duration.sum,sm__cycles_elapsed.avg.per_second .devbin/$b bench "gemm m=$s n=$s k=$s dtype=bf16" \
      --impl cuda.wgmma --max-seconds 0.05 2>&1 | grep -E "gpu__time_duration|sm__cycles_elapsed|PASSED|FAILED" | head -14
  done
done
OUT=$OUT/ab timeout 330 scripts/gpu-ab bench/results/h200/session17/call2-lines.txt def=.devbin/tessel \
  "rg4=.devbin/tessel:--config raster_group=4" "rg16=.devbin/tessel:--config raster_group=16" \
  --impl cuda.wgmma --rounds 2 --max-seconds 0.2 2>&1 | tail -16
cd "$OUT" && tar czf /tmp/all.tgz . && find . -mindepth 1 -delete && mv /tmp/all.tgz .
