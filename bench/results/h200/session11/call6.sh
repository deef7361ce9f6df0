#!/usr/bin/env bash
# Session 11, device call 6 (issue 4): the fusion runner's 16- and 8-byte vector stores as cache-streaming
# stores (st.global.cs, __stcs: evict first) instead of plain ones. torch.compile's rmsnorm reads 103% of our
# copy probe at 16384 x 8192 where ours reads 100%. old = .devbin-base (main cb19ca3), new = .devbin (the same
# plus include/tessel/fuse/dvec.hpp's store_words). Verify of the suite's samples with new, then 3 rounds.
set -uo pipefail
tar xzf .devbinz/b.tgz && export LD_LIBRARY_PATH=$PWD/.devbin TESSEL_CACHE_DIR=$OUT TESSEL_COMMIT=${TESSEL_COMMIT:-session11-call6}
.devbin/tessel probe --refresh | grep "gpu copy"
.devbin/tessel verify --impl cuda.fused 2>&1 | tail -2
OUT=$OUT/ab scripts/gpu-ab bench/results/h200/session11/stcs-lines.txt old=.devbin-base/tessel new=.devbin/tessel --rounds 3 --max-seconds 0.4 2>&1 | tail -13
cd "$OUT" && tar czf /tmp/all.tgz . && find . -mindepth 1 -delete && mv /tmp/all.tgz .
