#!/usr/bin/env bash
# Session 22, device call 3 (issue 4): call 2 again with the configs written as the CLI takes them
# (comma-separated; call 2's reread variants did not run): the reducing fused chains with the row
# re-read from L2 in the passes after the first (reread=1) at 2 and 4 slots against the default.
set -uo pipefail
tar xzf .devbinz/b.tgz && export TESSEL_CACHE_DIR=$OUT TESSEL_COMMIT=${TESSEL_COMMIT:-session22-call3}
export LD_LIBRARY_PATH=$PWD/.devbin
T=.devbin/tessel
D=bench/results/h200/session22
for cfg in "reread=1,slots=2" "reread=1,slots=4"; do
  timeout 120 $T verify "rmsnorm rows=7 cols=1000 dtype=bf16" "rmsnorm rows=3 cols=8 dtype=bf16" \
    "rmsnorm rows=33 cols=8192 dtype=f32" "rmsnorm_quant rows=5 cols=4104 dtype=bf16" \
    "rmsnorm_quant rows=9 cols=1000 dtype=bf16 quant=i8" "rmsnorm_residual rows=6 cols=2056 dtype=bf16" \
    "layernorm rows=11 cols=1000 dtype=bf16" "softmax rows=5 cols=16384 dtype=bf16" "softmax rows=1 cols=8 dtype=f32" \
    "swiglu rows=7 cols=1000 dtype=bf16 quant=e4m3" "rmsnorm rows=1 cols=16384 dtype=bf16" \
    --impl cuda.fused --config $cfg 2>&1 | grep -E "FAILED|ERROR|rror|PASSED|verify:" | cut -c1-110 | sed "s/^/verify $cfg: /"
done
OUT=$OUT/ab timeout 330 scripts/gpu-ab $D/reduce-lines.txt a=$T "rr2=$T:--config reread=1,slots=2" \
  "rr4=$T:--config reread=1,slots=4" --rounds 3 --max-seconds 0.3 2>&1 | tail -21
cd "$OUT" && tar czf /tmp/all.tgz . && find . -mindepth 1 -delete && mv /tmp/all.tgz .
