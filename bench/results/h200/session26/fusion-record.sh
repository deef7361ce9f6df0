#!/usr/bin/env bash
# Session 26's recorded fusion run on the H200 (device call 2): scripts/gpu-fusion in full (fuse CUDA tests,
# verify of every sample and 48 odd shapes, memcheck, the fusion-h200 suite, PyTorch eager and
# torch.compile) from a bundle built here at the commit in .devbin-rec/COMMIT
# (scripts/device-bundle .devbinz; mv .devbinz .devbin-rec; tar czf .devbinz/b.tgz .devbin-rec; carry .devbinz).
set -uo pipefail
tar xzf .devbinz/b.tgz || exit 2
export LD_LIBRARY_PATH=$PWD/.devbin-rec TESSEL_CACHE_DIR=/tmp/tessel-cache
scripts/gpu-fusion .devbin-rec 2>&1 | tee "$OUT/gpu-fusion.log"
