#!/usr/bin/env bash
# Session 10, device call 7 (issue 3, fp8 block scales): the warp stall reasons that call 5 did not collect, for
# the per-tensor promoting kernel and the km block-scaled one at 4096^3 (same main loop, 1.19x the cycles):
# ncu's per-issue stall ratios for every reason, and the source counters' sampled stall locations.
set -uo pipefail
tar xzf .devbinz/b.tgz && export LD_LIBRARY_PATH=$PWD/.devbin TESSEL_CACHE_DIR=$OUT TESSEL_COMMIT=315409e
T=.devbin/tessel
n=0
for p in "gemm m=4096 n=4096 k=4096 dtype=e4m3 scale=tensor b=nk" "gemm m=4096 n=4096 k=4096 dtype=e4m3 scale=block scale_layout=km b=nk"; do
  n=$((n + 1))
  timeout 200 ncu --metrics 'regex:smsp__average_warps_issue_stalled_.*_per_issue_active\.ratio' --section SourceCounters \
    -k "regex:fp8_gemm_kernel" -c 1 $T bench "$p" --impl cuda.wgmma.fp8 --config accum=1 --max-seconds 0.05 \
    >"$OUT/ncu-stalls-$n.txt" 2>&1; echo "ncu $n rc=$?"
  grep -E "stalled_.*ratio" "$OUT/ncu-stalls-$n.txt" | awk '{print $1, $NF}' | sort -k2 -g -r | head -8
done
cd "$OUT" && tar czf /tmp/all.tgz . && find . -mindepth 1 -delete && mv /tmp/all.tgz .
