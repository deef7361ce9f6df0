#!/usr/bin/env bash
# Session 16, device call 5: the recorded fusion run at main e1ff858 (TESSEL_COMMIT, given on the command line):
# scripts/gpu-fusion in full (fuse CUDA tests, verify of every sample and the odd shapes, memcheck, the suite,
# PyTorch eager and torch.compile on the same lines). New since session 13's recorded run: stash blocks of one
# group (kStashMinBlock), and session 12's rope trig change had landed after that run.
set -uo pipefail
tar xzf .devbinz/b.tgz && export LD_LIBRARY_PATH=$PWD/.devbin TESSEL_CACHE_DIR=$OUT TESSEL_COMMIT=${TESSEL_COMMIT:?}
BENCH_MAX_SECONDS=0.3 TORCH_MAX_SECONDS=0.3 OUT=$OUT/fusion timeout 420 scripts/gpu-fusion .devbin 2>&1 | tail -45
cd "$OUT" && tar czf /tmp/all.tgz . && find . -mindepth 1 -delete && mv /tmp/all.tgz .
