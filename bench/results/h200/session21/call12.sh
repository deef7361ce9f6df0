#!/usr/bin/env bash
# Session 21, device call 12 (issue 3): cuda.wgmma's l2_promotion at m <= 64 (call 6 measured m >= 128 only).
set -uo pipefail
tar xzf .devbinz/b.tgz && export TESSEL_CACHE_DIR=$OUT TESSEL_COMMIT=${TESSEL_COMMIT:-session21-call12}
export LD_LIBRARY_PATH=$PWD/.devbin
T=.devbin/tessel
OUT=$OUT/ab timeout 150 scripts/gpu-ab bench/results/h200/session21/wgmma-small-m.txt p256=$T "p128=$T:--config l2_promotion=128" \
  --rounds 3 --max-seconds 0.2 --impl cuda.wgmma,cublaslt 2>&1 | tail -12
cd "$OUT" && tar czf /tmp/all.tgz . && find . -mindepth 1 -delete && mv /tmp/all.tgz .
