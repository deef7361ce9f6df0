#!/usr/bin/env bash
# Session 7, device call 6 (issue 3): does m=128 lose time to every CTA of a split reading the same
# k-block of A at once? Diagnostic variant rot (env TESSEL_DIAG_ROTATE=1): each tile starts its K walk
# at a staggered k-block (tile column % 8 eighths in), same work and stages otherwise.
set -uo pipefail
tar xzf .devbinz/b.tgz && export LD_LIBRARY_PATH=$PWD/.devbin TESSEL_CACHE_DIR=$OUT
T=.devbin/tessel
printf '#!/bin/sh\nTESSEL_DIAG_ROTATE=1 exec %s "$@"\n' "$PWD/$T" >.devbin/tessel-rot && chmod +x .devbin/tessel-rot
timeout 100 .devbin/tessel-rot verify "gemm m=128 n=4096 k=4096 dtype=bf16 b=nk" "gemm m=300 n=1000 k=1032 dtype=bf16 b=nk" \
  "gemm m=128 n=1024 k=8192 dtype=bf16 b=nk" --impl cuda.wgmma --config splits=4 2>&1 | tail -1
cat >"$OUT/s.txt" <<'S'
gemm m=128 n=6144 k=4096 dtype=bf16 b=nk
gemm m=128 n=4096 k=4096 dtype=bf16 b=nk
gemm m=128 n=4096 k=14336 dtype=bf16 b=nk
S
OUT=$OUT/ab timeout 200 scripts/gpu-ab "$OUT/s.txt" base=$T rot=.devbin/tessel-rot base4="$T:--config splits=4" \
  rot4=".devbin/tessel-rot:--config splits=4" --impl 'cuda.wgmma' --max-seconds 0.3 --rounds 2 2>&1 | tail -5
cd "$OUT" && tar czf /tmp/all.tgz . && find . -mindepth 1 -delete && mv /tmp/all.tgz .
