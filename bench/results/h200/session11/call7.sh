#!/usr/bin/env bash
# Session 11, device call 7 (issue 4): two Newton steps instead of three in the device's div_d and rsqrt_d
# (from the ~20-bit MUFU seeds, two steps already pass 53 bits). old = .devbin-base (main e81bea7's kernels),
# new = .devbin (the same plus include/tessel/fuse/ops.hpp). Verify of every cuda.fused sample with new,
# then 3 interleaved rounds on the reducing rows.
set -uo pipefail
tar xzf .devbinz/b.tgz && export LD_LIBRARY_PATH=$PWD/.devbin TESSEL_CACHE_DIR=$OUT TESSEL_COMMIT=${TESSEL_COMMIT:-session11-call7}
.devbin/tessel probe --refresh | grep "gpu copy"
.devbin/tessel verify --impl cuda.fused 2>&1 | tail -1
OUT=$OUT/ab scripts/gpu-ab bench/results/h200/session11/newton-lines.txt old=.devbin-base/tessel new=.devbin/tessel --rounds 3 --max-seconds 0.3 2>&1 | tail -11
cd "$OUT" && tar czf /tmp/all.tgz . && find . -mindepth 1 -delete && mv /tmp/all.tgz .
