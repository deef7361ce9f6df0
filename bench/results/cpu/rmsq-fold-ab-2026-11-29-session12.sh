#!/usr/bin/env bash
# Session 12 (issue 4, CPU): rmsnorm_quant's cpu.fused chain with write_quant_rms (two passes over a row:
# the sum of x^2 and max |x * w| together, then the codes) against the three-pass chain before it
# (rms_scale -> mul -> write_quant). OLD and NEW are tessel CLIs built from main c725028 without and with
# the change; they alternate for ROUNDS rounds on both cores, and the ratio is taken per round.
#   usage: OLD=/work/cpubase/build/cpu/tessel NEW=build/cpu/tessel ROUNDS=5 bench/results/cpu/rmsq-fold-ab-2026-11-29-session12.sh
set -euo pipefail
cd "$(dirname "$0")/../../.."
OLD=${OLD:?} NEW=${NEW:?} ROUNDS=${ROUNDS:-5}
out=${OUT_DIR:-/tmp/rmsq-fold-ab}
mkdir -p "$out"
lines=("rmsnorm_quant rows=4096 cols=4096" "rmsnorm_quant rows=4096 cols=4096 quant=i8"
       "rmsnorm_quant rows=4096 cols=4096 dtype=bf16" "rmsnorm_quant rows=65536 cols=1024 dtype=bf16 quant=i8")
for r in $(seq 1 "$ROUNDS"); do
  for v in old new; do
    bin=$OLD; [ $v = new ] && bin=$NEW
    "$bin" bench "${lines[@]}" --impl cpu.fused --max-seconds 1 --json "$out/$v-r$r.json" >/dev/null 2>>"$out/progress.log"
  done
done
python3 - "$out" "$ROUNDS" <<'PY'
import json, statistics, sys
out, rounds = sys.argv[1], int(sys.argv[2])
t = {}
for v in ("old", "new"):
    for r in range(1, rounds + 1):
        for row in json.load(open(f"{out}/{v}-r{r}.json"))["rows"]:
            assert row["status"] == "PASSED", row
            t.setdefault(row["problem"], {}).setdefault(v, []).append(row["median_s"])
print(f"{'problem':<58} {'old ms':>8} {'new ms':>8} {'old/new per round (median, range)':>36}")
for p, d in t.items():
    ratios = [o / n for o, n in zip(d["old"], d["new"])]
    print(f"{p:<58} {statistics.median(d['old'])*1e3:8.3f} {statistics.median(d['new'])*1e3:8.3f}"
          f"   {statistics.median(ratios):.3f} ({min(ratios):.3f}-{max(ratios):.3f})")
PY
