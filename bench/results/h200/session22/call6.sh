#!/usr/bin/env bash
# Session 22, device call 6 (issue 4): Inductor's cache policies, the one difference session 16 and
# call 3 left between its rmsnorm and ours. exp = the reread build (call 3's) compiled with
# -DTESSEL_EXP_HINTS: bf16 vector reads of a broadcast row, or of a pass whose row is read again,
# load with L1::evict_last and an L2 evict_last policy; the last read of a row with evict_first
# (hints-experiment.patch). a = call 3's binary (the same code without the hints).
# Variants: a (stash, default), h (stash + hints: x read once, evict_first; the weight evict_last),
# hr4 / hr2 (reread + hints, 4 / 2 slots). 1. verify h and hr2; 2. reducing lines, 3 rounds.
set -uo pipefail
mkdir -p .devbin-old && tar xzf .devbinz/old.tgz -C .devbin-old && tar xzf .devbinz/b.tgz
export TESSEL_CACHE_DIR=$OUT TESSEL_COMMIT=${TESSEL_COMMIT:-session22-call6}
export LD_LIBRARY_PATH=$PWD/.devbin
T=.devbin/tessel
O=.devbin-old/.devbin/tessel
D=bench/results/h200/session22
for cfg in "slots=0" "reread=1,slots=2"; do
  timeout 60 $T verify "rmsnorm rows=7 cols=1000 dtype=bf16" "rmsnorm_quant rows=5 cols=4104 dtype=bf16" \
    "rmsnorm_residual rows=6 cols=2056 dtype=bf16" "layernorm rows=11 cols=1000 dtype=bf16" "softmax rows=5 cols=16384 dtype=bf16" \
    --impl cuda.fused --config $cfg 2>&1 | grep -E "FAILED|ERROR|rror|verify:" | cut -c1-110 | sed "s/^/verify $cfg: /"
done
OUT=$OUT/ab timeout 270 scripts/gpu-ab $D/hint-lines.txt a=$O h=$T "hr4=$T:--config reread=1,slots=4" \
  "hr2=$T:--config reread=1,slots=2" --rounds 3 --max-seconds 0.2 2>&1 | tail -9
cd "$OUT" && tar czf /tmp/all.tgz . && find . -mindepth 1 -delete && mv /tmp/all.tgz .
