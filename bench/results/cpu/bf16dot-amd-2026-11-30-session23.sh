#!/usr/bin/env bash
# Session 23, on a 2-core Zen 5 EPYC VM (AVX512-BF16, no AMX): cpu.bf16dot before and after c36da89
# (B=[N,K] packed by a register transpose instead of gathers; m <= 16 (b=nk) and m <= 4 (b=kn)
# handed to cpu.simd's streaming path), interleaved, then issue 5's dense GEMM rows with the new
# ranking (cpu.bf16dot first on AMD) and the probe's new bf16 dot peak.
#   OLD=/tmp/old/build/cpu/tessel NEW=build/cpu/tessel ROUNDS=3 bash bench/results/cpu/bf16dot-amd-2026-11-30-session23.sh
# OLD is the parent commit's build (git worktree add /tmp/old c36da89~1; cmake --preset cpu there).
# PART=dense runs only the second half (the dense rows), as it was run again at 7c23c6c.
set -euo pipefail
OLD=${OLD:-/tmp/old/build/cpu/tessel}
NEW=${NEW:-build/cpu/tessel}
ROUNDS=${ROUNDS:-3}
OUT=${OUT:-bench/results/cpu/bf16dot-amd-2026-11-30-session23}
PART=${PART:-all}
mkdir -p "$OUT"
if [ "$PART" = all ]; then
rows=(
  "gemm m=1 n=4096 k=4096 dtype=bf16 b=nk"
  "gemm m=16 n=4096 k=4096 dtype=bf16 b=nk"
  "gemm m=64 n=4096 k=4096 dtype=bf16 b=nk"
  "gemm m=512 n=4096 k=4096 dtype=bf16 b=nk"
  "gemm m=1 n=4096 k=4096 dtype=bf16"
  "gemm m=16 n=4096 k=4096 dtype=bf16"
)
median() { grep -E "PASSED +$1 " | awk '{print $3, $4}'; }
{
  echo "# $(date -u +%FT%TZ) $(git rev-parse --short HEAD) rounds=$ROUNDS"
  echo "# row | old cpu.bf16dot | new cpu.bf16dot (default) | new stream_b=0 (the new pack alone)"
  for r in $(seq "$ROUNDS"); do
    for row in "${rows[@]}"; do
      o=$("$OLD" bench "$row" --impl cpu.bf16dot --max-seconds 0.5 2>/dev/null | median cpu.bf16dot)
      n=$("$NEW" bench "$row" --impl cpu.bf16dot --max-seconds 0.5 2>/dev/null | median cpu.bf16dot)
      p=$("$NEW" bench "$row" --impl cpu.bf16dot --config stream_b=0 --max-seconds 0.5 2>/dev/null | median cpu.bf16dot)
      echo "round $r | $row | $o | $n | $p"
    done
  done
} | tee "$OUT/ab.txt"
fi
# Issue 5's dense rows: f32 against the baselines, bf16 (cpu.bf16dot) against our f32, and the
# default implementation of each row (the first one listed).
"$NEW" probe --refresh | tee "$OUT/probe-before.txt"
"$NEW" bench "gemm m=1024 n=1024 k=1024" "gemm m=2048 n=2048 k=2048" "gemm m=4096 n=4096 k=4096" \
  "gemm m=1024 n=1024 k=1024 dtype=bf16" "gemm m=2048 n=2048 k=2048 dtype=bf16" "gemm m=4096 n=4096 k=4096 dtype=bf16" \
  --impl 'cpu.bf16dot,cpu.simd,openblas,onednn' --max-seconds 2 --json "$OUT/dense.json" 2>&1 | tee "$OUT/dense.txt"
"$NEW" probe --refresh | tee "$OUT/probe-after.txt"
