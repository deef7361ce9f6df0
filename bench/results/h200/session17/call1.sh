#!/usr/bin/env bash
# Session 17, device call 1. Cache hints on the fusion runner's 16-byte loads and stores (include/tessel/fuse/dvec.hpp,
# experiment macros): .devbin/tessel (def: plain ld/st, main 174c159 + the hint hooks at 0), .devbin/tessel-st
# (-DTESSEL_FUSE_ST_HINT=1: st.global.cs), .devbin/tessel-ldst (also -DTESSEL_FUSE_LD_HINT=1: ld.global.cs).
# Inductor's rmsnorm loads x evict_first on its last pass (session 16, call 1). Verify a few odd shapes on each
# hinted build first, then an A/B over the whole fusion suite, 2 interleaved rounds.
set -uo pipefail
tar xzf .devbinz/b.tgz && export TESSEL_CACHE_DIR=$OUT TESSEL_COMMIT=${TESSEL_COMMIT:-session17-call1}
export LD_LIBRARY_PATH=$PWD/.devbin
for b in st ldst; do
  timeout 60 .devbin/tessel-$b verify --impl cuda.fused "rmsnorm rows=3 cols=4104 dtype=bf16" "softmax rows=5 cols=8200 dtype=bf16" \
    "rmsnorm_quant rows=7 cols=1032 dtype=bf16" "swiglu rows=9 cols=2056 dtype=bf16 quant=e4m3" \
    "rope tokens=5 heads_q=6 heads_k=2 dim=128 dtype=bf16" "layernorm rows=4 cols=1024 dtype=bf16" 2>&1 | tail -1 | sed "s/^/$b: /"
done
OUT=$OUT/ab timeout 480 scripts/gpu-ab bench/suites/fusion-h200.txt def=.devbin/tessel st=.devbin/tessel-st ldst=.devbin/tessel-ldst \
  --rounds 2 --max-seconds 0.2 2>&1 | tail -34
cd "$OUT" && tar czf /tmp/all.tgz . && find . -mindepth 1 -delete && mv /tmp/all.tgz .
