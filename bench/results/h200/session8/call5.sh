#!/usr/bin/env bash
# Session 8, device call 5 (issue 4): rope NeoX with its trig split between partner threads (thread t
# and t ^ 8 of a 16-lane group compute 4 of the 8 sines and cosines each and swap them by a 16-lane
# shuffle), only for groups whose four rows share one token and only before the row loop (call 2's
# vote inside the loop kept later rows' loads back). base = 82553a4 (call 3's binary), new = that.
set -uo pipefail
tar xzf .devbinz/b.tgz && export LD_LIBRARY_PATH=$PWD/.devbin TESSEL_CACHE_DIR=$OUT
S=bench/results/h200/session8
T=.devbin/tessel
OUT=$OUT/ab timeout 100 scripts/gpu-ab $S/rope-ab2.txt base=.devbin-base/tessel new=$T --rounds 3 --max-seconds 0.15 >"$OUT/ab.log" 2>&1; grep -A8 "^problem" "$OUT/ab.log"
timeout 60 $T verify --impl cuda.fused "rope tokens=1 heads_q=1 heads_k=1 dim=2" "rope tokens=17 heads_q=8 heads_k=2 dim=128 dtype=bf16 theta=500000" \
  "rope tokens=11 heads_q=3 heads_k=1 dim=128" "rope tokens=520 heads_q=32 heads_k=8 dim=128 dtype=bf16" "rope tokens=37 heads_q=5 heads_k=3 dim=128 dtype=bf16" \
  "rope tokens=64 heads_q=4 heads_k=4 dim=128" "rope tokens=3 heads_q=2 heads_k=1 dim=64 dtype=bf16" "rope tokens=9 heads_q=5 heads_k=3 dim=34 dtype=bf16" \
  "rope tokens=4096 heads_q=24 heads_k=8 dim=128 dtype=bf16" >"$OUT/verify.log" 2>&1; tail -1 "$OUT/verify.log"; grep -c PASSED "$OUT/verify.log"
timeout 60 compute-sanitizer --tool memcheck --error-exitcode 99 $T verify "rope tokens=64 heads_q=4 heads_k=4 dim=128 dtype=bf16" \
  "rope tokens=11 heads_q=3 heads_k=1 dim=128" --impl cuda.fused >"$OUT/memcheck.log" 2>&1; echo "memcheck rc=$?"; tail -1 "$OUT/memcheck.log"
timeout 30 .devbin/tessel_cuda_tests --gtest_filter='FuseCuda*' --gtest_brief=1 2>&1 | tail -1
cd "$OUT" && tar czf /tmp/all.tgz . && find . -mindepth 1 -delete && mv /tmp/all.tgz .
