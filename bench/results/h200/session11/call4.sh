#!/usr/bin/env bash
# Session 11, device call 4 (issue 4: int8 rmsnorm_quant at 1.06x rmsnorm's time, the goal 1.05x). The int8
# quantizing write without the clamp: WriteQuant scales by 127 / max|v| over the same values, so every finite
# q lies within [-127, 127] up to two roundings and the magic-number add alone rounds it (the clamp stays for a
# row whose inverse scale overflows). old = .devbin-base (main 6919182), new = .devbin (the same plus
# include/tessel/fuse/{dtypes,ops}.hpp). Correctness of new first (gpu-fusion's checks), then 3 rounds.
set -uo pipefail
tar xzf .devbinz/b.tgz && export LD_LIBRARY_PATH=$PWD/.devbin TESSEL_CACHE_DIR=$OUT TESSEL_COMMIT=${TESSEL_COMMIT:-session11-call4}
SKIP_BENCH=1 OUT=$OUT/check scripts/gpu-fusion .devbin 2>&1 | grep -E "PASSED|ERROR SUMMARY|step failed|==== done|FAILED|passed,"
.devbin/tessel verify "rmsnorm_quant rows=33 cols=8192 dtype=bf16 quant=i8" "rmsnorm_quant rows=7 cols=24 dtype=bf16 quant=i8" \
  "swiglu rows=9 cols=4096 dtype=bf16 quant=i8" "swiglu rows=3 cols=8 dtype=bf16 quant=i8" --impl cuda.fused 2>&1 | tail -5
echo "==== A/B"
OUT=$OUT/ab scripts/gpu-ab bench/results/h200/session11/i8-lines.txt old=.devbin-base/tessel new=.devbin/tessel --rounds 3 --max-seconds 0.4 2>&1 | tail -11
cd "$OUT" && tar czf /tmp/all.tgz . && find . -mindepth 1 -delete && mv /tmp/all.tgz .
