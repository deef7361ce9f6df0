#!/usr/bin/env bash
# Session 24: cpu.idot (spans of blocks with sums in registers, three rows of X a sweep on AVX3_DL,
# block-major int8 activations, outputs written into y, vectorized activation quantization) against
# the build before it, interleaved, --impl cpu.idot --max-seconds 0.6, medians.
# Usage: OLD=/path/to/old/tessel NEW=build/cpu/tessel ROUNDS=3 [ISA=avx2] bash ab.sh
set -euo pipefail
OLD=${OLD:?old tessel binary}; NEW=${NEW:-build/cpu/tessel}; ROUNDS=${ROUNDS:-3}
rows=(
  "qgemm m=512 n=4096 k=4096 wbits=2 group=128"
  "qgemm m=512 n=4096 k=4096 wbits=4 group=128"
  "qgemm m=512 n=4096 k=14336 wbits=4 group=128"
  "qgemm m=512 n=4096 k=4096 wbits=8 group=128"
  "qgemm m=64 n=4096 k=4096 wbits=4 group=128"
  "qgemm m=8 n=4096 k=4096 wbits=8 group=128"
  "qgemm m=1 n=4096 k=4096 wbits=8 group=128"
)
med() { grep -E "PASSED +cpu.idot" | awk '{print $3, $4}'; }
echo "# $(date -u +%FT%TZ) ISA=${ISA:-native} old=$OLD new=$NEW"
for r in $(seq 1 "$ROUNDS"); do
  for d in "${rows[@]}"; do
    o=$(TESSEL_CPU_ISA=${ISA:-} "$OLD" bench "$d" --impl cpu.idot --max-seconds 0.6 2>&1 | med)
    n=$(TESSEL_CPU_ISA=${ISA:-} "$NEW" bench "$d" --impl cpu.idot --max-seconds 0.6 2>&1 | med)
    echo "round $r | $d | old $o | new $n"
  done
done
