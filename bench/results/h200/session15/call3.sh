#!/usr/bin/env bash
# Session 15, device call 3. .devbin/tessel = call 1's default build (main ef8b570 behaviour). Where do the m = 16
# rows lose their 5-7% to cuBLASLt: a fixed cost per call (prologue, first bytes, tail) or the streaming rate?
# A scan over K at m = 16, n = 6144 (and n = 8192) of cuda.wgmma, cuda.wgmma.skinny and cuBLASLt, 3 interleaved
# rounds (gpu-ab with one variant): if the gap in microseconds stays flat as K grows it is fixed; if it grows
# with K it is the rate.
set -uo pipefail
tar xzf .devbinz/b.tgz && export LD_LIBRARY_PATH=$PWD/.devbin TESSEL_CACHE_DIR=$OUT TESSEL_COMMIT=${TESSEL_COMMIT:-session15-call3}
OUT=$OUT/ab timeout 400 scripts/gpu-ab bench/results/h200/session15/kscan-lines.txt def=.devbin/tessel \
  --impl cuda.wgmma,cuda.wgmma.skinny,cublaslt --rounds 3 --max-seconds 0.2 2>&1 | tail -26
cd "$OUT" && tar czf /tmp/all.tgz . && find . -mindepth 1 -delete && mv /tmp/all.tgz .
