#!/usr/bin/env bash
# Session 16: the low-bit GEMVs (m = 1, n = 4096, k = 4096 and 14336; 2-bit, 4-bit, ternary, ternary5) on cpu.lut's
# AVX2 path (TESSEL_CPU_ISA=avx2) and on the machine's best (AVX3_DL here), alternating, two runs each, both cores,
# through `tessel bench`. Run from the repo root after `cmake --build --preset cpu`.
set -euo pipefail
T=build/cpu/tessel
out=${OUT_DIR:-bench/results/cpu/lowbit-avx2-2026-11-30-session16}
mkdir -p "$out"
lines=()
for k in 4096 14336; do
  for f in "wbits=2" "wbits=4" "format=ternary" "format=ternary5"; do lines+=("qgemm m=1 n=4096 k=$k $f group=128"); done
done
for r in 1 2; do
  TESSEL_CPU_ISA=avx2 $T bench "${lines[@]}" --impl cpu.lut --threads 2 --max-seconds 1 --json "$out/avx2-r$r.json" >"$out/avx2-r$r.log" 2>&1
  $T bench "${lines[@]}" --impl cpu.lut --threads 2 --max-seconds 1 --json "$out/best-r$r.json" >"$out/best-r$r.log" 2>&1
done
python3 - "$out" <<'PY'
import json, sys, statistics
out = sys.argv[1]
rows = {}
for kind in ("avx2", "best"):
    for r in (1, 2):
        d = json.load(open(f"{out}/{kind}-r{r}.json"))
        for row in d["rows"]:
            rows.setdefault(row["problem"], {}).setdefault(kind, []).append((row["median_s"] * 1e6, d["cpu_simd"]))
print("| problem | AVX2 us (runs) | best us (runs, target) | AVX2 / best time |")
print("|---|---|---|---|")
for p, v in rows.items():
    a = [t for t, _ in v["avx2"]]; b = [t for t, _ in v["best"]]
    print(f"| {p} | {' / '.join(f'{t:.0f}' for t in a)} | {' / '.join(f'{t:.0f}' for t in b)} ({v['best'][0][1]}) | {statistics.median(a) / statistics.median(b):.2f} |")
PY
