#!/usr/bin/env bash
# Session 16, device call 2. Call 1 found torch.compile's rmsnorm (Triton, 16384 x 8192) running 512-thread blocks
# at 32 registers and 92% achieved occupancy, re-reading the row from L1 in its second pass, where cuda.fused
# holds the row in 64 registers at 47%; at 65536 x 1024 Triton runs one-warp blocks (ours: 8 rows a 256-thread
# block, 39% achieved against 43%). tessel-x = HEAD + stash-block.patch built with -DTESSEL_EXP_STASH_MIN_BLOCK=32
# (stash blocks of max(group, 32) threads instead of max(group, 256)) -DTESSEL_EXP_FULLOCC (reducing chains on
# 2 vector slots bounded for 2048 threads an SM: 32 registers). Verify of tessel-x (both slot counts) on the
# fusion suite, then an A/B over the suite, 3 interleaved rounds: def, def slots=2, x, x slots=2.
set -uo pipefail
tar xzf .devbinz/b.tgz && export LD_LIBRARY_PATH=$PWD/.devbin TESSEL_CACHE_DIR=$OUT TESSEL_COMMIT=${TESSEL_COMMIT:-session16-call2}
for cfg in "" "--config slots=2"; do
  echo "== verify tessel-x $cfg"
  timeout 120 .devbin/tessel-x verify --suite bench/suites/fusion-h200.txt --impl cuda.fused $cfg 2>&1 | grep -cE "PASSED"
  timeout 120 .devbin/tessel-x verify --suite bench/suites/fusion-h200.txt --impl cuda.fused $cfg 2>&1 | grep -E "FAIL|ERROR" | head -5
done
OUT=$OUT/ab timeout 420 scripts/gpu-ab bench/suites/fusion-h200.txt def=.devbin/tessel "def2=.devbin/tessel:--config slots=2" \
  x=.devbin/tessel-x "x2=.devbin/tessel-x:--config slots=2" --rounds 3 --max-seconds 0.2 2>&1 | tail -34
cd "$OUT" && tar czf /tmp/all.tgz . && find . -mindepth 1 -delete && mv /tmp/all.tgz .
