#!/usr/bin/env bash
# Session 12, device call 7 (issue 4): rope's short-row path computes the sines and cosines again only where
# the token changes within a group's rows (it did so for every row of a group that holds two tokens: half the
# groups at 6 + 2 heads, the suite's GPT-J line), now counted from the first row's place in its token (no division
# per row: call 6's version cost GPT-J's one-token rows 2-4%). old = .devbin-base (main 939d52a, call 3's bundle);
# new = .devbin (main 5974bc7 plus include/tessel/fuse/rope.hpp). Correctness of new first (gpu-fusion's checks:
# every sample, the odd shapes with rows of two tokens in a group, memcheck), then 5 interleaved rounds.
set -uo pipefail
tar xzf .devbinz/b.tgz && export LD_LIBRARY_PATH=$PWD/.devbin TESSEL_CACHE_DIR=$OUT TESSEL_COMMIT=${TESSEL_COMMIT:-session12-call7}
SKIP_BENCH=1 OUT=$OUT/check scripts/gpu-fusion .devbin 2>&1 | grep -E "ERROR SUMMARY|step failed|==== done|FAILED|passed,"
.devbin/tessel verify "rope tokens=33 heads_q=6 heads_k=2 dim=128 dtype=bf16 style=gptj" "rope tokens=17 heads_q=3 heads_k=1 dim=128 dtype=bf16" \
  "rope tokens=9 heads_q=5 heads_k=3 dim=64 dtype=bf16 style=gptj" "rope tokens=5 heads_q=7 heads_k=1 dim=128" \
  "rope tokens=11 heads_q=1 heads_k=1 dim=128 dtype=bf16" "rope tokens=7 heads_q=2 heads_k=1 dim=32 dtype=bf16 style=gptj" --impl cuda.fused 2>&1 | tail -5
echo "==== A/B"
OUT=$OUT/ab scripts/gpu-ab bench/results/h200/session12/rope3-lines.txt old=.devbin-base/tessel new=.devbin/tessel --rounds 5 --max-seconds 0.3 2>&1 | tail -8
cd "$OUT" && tar czf /tmp/all.tgz . && find . -mindepth 1 -delete && mv /tmp/all.tgz .
