#!/usr/bin/env bash
# Session 16, device call 6. Triton's way for the reducing chains (call 1): the row re-read from L1 in the passes
# after a reduction instead of held in registers, at 2048 threads an SM. tessel-x = main e1ff858 + reread.patch
# built with -DTESSEL_EXP_REREAD (passes after the first reload their inputs; reducing chains on 2 vector slots
# bounded for 2048 threads an SM). Verify of x on small odd shapes with slots=2 and 4, then an A/B on
# call6-lines.txt, 2 rounds: def (e1ff858), x slots=2, x slots=4.
set -uo pipefail
tar xzf .devbinz/b.tgz && export LD_LIBRARY_PATH=$PWD/.devbin TESSEL_CACHE_DIR=$OUT TESSEL_COMMIT=${TESSEL_COMMIT:-session16-call6}
for cfg in "slots=2" "slots=4"; do
  timeout 60 .devbin/tessel-x verify "rmsnorm rows=3 cols=8192 dtype=bf16" "softmax rows=5 cols=8200 dtype=bf16" \
    "layernorm rows=7 cols=4104 dtype=bf16" "rmsnorm_quant rows=9 cols=8200 dtype=bf16 quant=i8" \
    "rmsnorm_residual rows=5 cols=8192 dtype=bf16" "rmsnorm rows=33 cols=1000 dtype=bf16" --impl cuda.fused --config $cfg 2>&1 | tail -1
done
OUT=$OUT/ab timeout 200 scripts/gpu-ab bench/results/h200/session16/call6-lines.txt def=.devbin/tessel \
  "x2=.devbin/tessel-x:--config slots=2" "x4=.devbin/tessel-x:--config slots=4" --rounds 2 --max-seconds 0.2 2>&1 | tail -9
cd "$OUT" && tar czf /tmp/all.tgz . && find . -mindepth 1 -delete && mv /tmp/all.tgz .
