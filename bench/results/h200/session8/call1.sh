#!/usr/bin/env bash
# Session 8, device call 1 (issue 4): rope's load_rows unrolled (ptxas: NeoX bf16 short_rows_kernel
# had a 160-byte stack frame, out[k] in local memory). A/B against main's binary (old), then the
# whole scripts/gpu-fusion (tests, verify, odd shapes, memcheck, suite bench) on the new binary,
# then ncu on the NeoX row.
set -uo pipefail
tar xzf .devbinz/b.tgz && export LD_LIBRARY_PATH=$PWD/.devbin TESSEL_CACHE_DIR=$OUT
S=bench/results/h200/session8
OUT=$OUT/ab timeout 170 scripts/gpu-ab $S/rope-ab.txt old=.devbin-old/tessel new=.devbin/tessel --rounds 3 --max-seconds 0.3 2>&1 | tail -12
SKIP_TORCH=1 OUT=$OUT/fusion timeout 300 scripts/gpu-fusion .devbin >"$OUT/gpu-fusion.log" 2>&1; echo "gpu-fusion rc=$?"
grep -E "PASSED rows|ERROR SUMMARY|step failed|==== done|tests ran|PASSED .*tests" "$OUT/gpu-fusion.log" | head -20
OUT=$OUT/ncu timeout 90 scripts/gpu-ncu --impl cuda.fused --kernel short_rows_kernel "rope tokens=16384 heads_q=48 heads_k=16 dim=128 dtype=bf16" 2>&1 | tail -8
cd "$OUT" && tar czf /tmp/all.tgz . && find . -mindepth 1 -delete && mv /tmp/all.tgz .
