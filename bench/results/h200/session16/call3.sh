#!/usr/bin/env bash
# Session 16, device call 3 (call 2 timed out in its A/B: a full-suite round takes minutes). The same two builds
# as call 2 on call3-lines.txt, 2 interleaved rounds: def, x (stash blocks of max(group, 32) threads), x2 (x with
# --config slots=2: reducing chains on 2 vector slots bounded for 2048 threads an SM, as Triton's rmsnorm runs).
set -uo pipefail
tar xzf .devbinz/b.tgz && export LD_LIBRARY_PATH=$PWD/.devbin TESSEL_CACHE_DIR=$OUT TESSEL_COMMIT=${TESSEL_COMMIT:-session16-call3}
OUT=$OUT/ab timeout 420 scripts/gpu-ab bench/results/h200/session16/call3-lines.txt def=.devbin/tessel \
  x=.devbin/tessel-x "x2=.devbin/tessel-x:--config slots=2" --rounds 2 --max-seconds 0.2 2>&1 | tail -12
cd "$OUT" && tar czf /tmp/all.tgz . && find . -mindepth 1 -delete && mv /tmp/all.tgz .
