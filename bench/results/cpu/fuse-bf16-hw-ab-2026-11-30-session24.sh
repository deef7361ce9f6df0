#!/usr/bin/env bash
# A/B of cpu.fused rows: OLD and NEW tessel binaries, interleaved, --max-seconds 0.6, medians.
set -euo pipefail
OLD=${OLD:?}; NEW=${NEW:-build/cpu/tessel}; ROUNDS=${ROUNDS:-3}
rows=(
  "eltwise rows=65536 cols=1024 dtype=bf16 chain=silu_mul"
  "swiglu rows=65536 cols=1024 dtype=bf16"
  "swiglu rows=65536 cols=1024 dtype=bf16 quant=e4m3"
  "rmsnorm_residual rows=65536 cols=1024 dtype=bf16"
  "layernorm rows=65536 cols=1024 dtype=bf16"
  "rmsnorm rows=65536 cols=1024 dtype=bf16"
  "rope tokens=16384 heads_q=24 heads_k=8 dim=128 dtype=bf16 style=gptj"
  "swiglu rows=4096 cols=4096"
)
echo "# $(date -u +%FT%TZ) old=$OLD new=$NEW"
for r in $(seq 1 "$ROUNDS"); do
  for d in "${rows[@]}"; do
    o=$("$OLD" bench "$d" --impl cpu.fused --max-seconds 0.6 2>&1 | grep -E "PASSED +cpu.fused" | awk '{print $3, $4}')
    n=$("$NEW" bench "$d" --impl cpu.fused --max-seconds 0.6 2>&1 | grep -E "PASSED +cpu.fused" | awk '{print $3, $4}')
    echo "round $r | $d | old $o | new $n"
  done
done
