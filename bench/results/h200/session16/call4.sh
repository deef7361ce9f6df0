#!/usr/bin/env bash
# Session 16, device call 4. The stash kernel's blocks of max(group, 32) threads (kStashMinBlock) as committed to
# main: .devbin/tessel-new (and its tessel_cuda_tests) against .devbin/tessel (HEAD 77af071, blocks of
# max(group, 256)). Correctness first: scripts/gpu-fusion with SKIP_BENCH=1 (fuse CUDA unit tests, verify on
# every sample and the 48 odd shapes, compute-sanitizer memcheck); then an A/B over the whole fusion suite,
# 2 interleaved rounds.
set -uo pipefail
tar xzf .devbinz/b.tgz && export TESSEL_CACHE_DIR=$OUT TESSEL_COMMIT=${TESSEL_COMMIT:-session16-call4}
mkdir -p .devbin-new && mv .devbin/tessel-new .devbin-new/tessel && mv .devbin/tessel_cuda_tests .devbin-new/ && cp .devbin/libhwy.so.1 .devbin-new/
(export LD_LIBRARY_PATH=$PWD/.devbin-new; SKIP_BENCH=1 OUT=$OUT/fusion timeout 280 scripts/gpu-fusion .devbin-new 2>&1 | grep -vE "^\s*$" | tail -30)
export LD_LIBRARY_PATH=$PWD/.devbin
OUT=$OUT/ab timeout 290 scripts/gpu-ab bench/suites/fusion-h200.txt def=.devbin/tessel new=.devbin-new/tessel \
  --rounds 2 --max-seconds 0.2 2>&1 | tail -32
cd "$OUT" && tar czf /tmp/all.tgz . && find . -mindepth 1 -delete && mv /tmp/all.tgz .
