#!/usr/bin/env bash
# Session 10: issue 5's GEMV ratios (4-bit >= 3.5x and 2-bit >= 6x our bf16 GEMV) with the pool warm by
# default (0aac26a), the low-bit and bf16 benches alternating for ROUNDS rounds on the 2-vCPU VM, both cores.
# Run from the repo root after `cmake --build --preset cpu`; output: the JSONs and a per-round table, in
# OUT_DIR (default: this run's folder; later samples pass their own, see the session 11 script).
set -euo pipefail
T=build/cpu/tessel
out=${OUT_DIR:-bench/results/cpu/lowbit-vs-bf16-2026-11-29-session10}
rounds=${ROUNDS:-3}
mkdir -p "$out"
$T probe --refresh >"$out/probe.txt" 2>&1
for r in $(seq 1 "$rounds"); do
  $T bench "qgemm m=1 n=4096 k=4096 wbits=2 group=128" "qgemm m=1 n=4096 k=4096 wbits=4 group=128" \
    "qgemm m=1 n=4096 k=14336 wbits=2 group=128" "qgemm m=1 n=4096 k=14336 wbits=4 group=128" \
    --impl cpu.lut --threads 2 --max-seconds 1.5 --json "$out/lut-r$r.json" >/dev/null
  $T bench "gemm m=1 n=4096 k=4096 dtype=bf16 b=nk" "gemm m=1 n=4096 k=14336 dtype=bf16 b=nk" \
    --impl cpu.simd --threads 2 --max-seconds 1.5 --json "$out/bf16-r$r.json" >/dev/null
done
python3 - "$out" "$rounds" <<'PY'
import json, sys, statistics
out, rounds = sys.argv[1], int(sys.argv[2])
def times(kind, key):
    vals = []
    for r in range(1, rounds + 1):
        row = [x for x in json.load(open(f"{out}/{kind}-r{r}.json"))["rows"] if x["problem"].startswith(key)][0]
        vals.append(row["median_s"] if row["status"] == "PASSED" else float("nan"))
    return vals
for k in (4096, 14336):
    bf = times("bf16", f"gemm m=1 n=4096 k={k} ")
    for w in (2, 4):
        q = times("lut", f"qgemm m=1 n=4096 k={k} wbits={w} ")
        ratios = [b / x for b, x in zip(bf, q)]
        print(f"k={k} wbits={w}: {statistics.median(q)*1e6:.1f} us, bf16 GEMV {statistics.median(bf)*1e6:.1f} us; "
              f"per-round ratios {', '.join(f'{x:.2f}' for x in ratios)}; median {statistics.median(ratios):.2f}x")
PY
