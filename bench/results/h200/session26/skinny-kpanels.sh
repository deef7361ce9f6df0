#!/usr/bin/env bash
# Session 26, on the H200: cuda.wgmma.skinny with 64- or 128-wide K stages (k_panels=1 / 2: 12 / 6 stages
# of 18 / 36 KiB for 128-row tiles) against its 256-wide default (3 stages of 72 KiB) and cuBLASLt, on the
# m <= 16 rows of bench/suites/gemm-h200.txt. Variants run as separate processes, interleaved, ROUNDS rounds;
# then a median table. Usage (device): bench/results/h200/session26/skinny-kpanels.sh TESSEL_BINARY
set -uo pipefail
B=$1
OUT=${OUT:-/tmp/out}
suite=$OUT/skinny.txt
cat >"$suite" <<'S'
gemm m=16 n=28672 k=4096 dtype=bf16 b=nk
gemm m=16 n=8192 k=8192 dtype=bf16 b=nk
gemm m=8 n=8192 k=8192 dtype=bf16 b=nk
gemm m=1 n=8192 k=8192 dtype=bf16 b=nk
gemm m=16 n=6144 k=4096 dtype=bf16 b=nk
gemm m=16 n=4096 k=14336 dtype=bf16 b=nk
S
for cfg in "k_panels=1,tile_rows=128" "k_panels=2,tile_rows=128" "k_panels=2,tile_rows=64"; do
  $B verify "gemm m=16 n=28672 k=4096 dtype=bf16 b=nk" "gemm m=13 n=4100 k=1000 dtype=bf16 b=nk" "gemm m=1 n=300 k=72 dtype=bf16 b=nk" \
    --impl cuda.wgmma.skinny --config "$cfg" 2>&1 | grep -E 'PASS|FAIL|verify:' | sed "s/^/[$cfg] /"
done
for r in $(seq 1 "${ROUNDS:-3}"); do
  for v in d kp1 kp2 w1 cub; do
    case $v in
      d) args=(--impl cuda.wgmma.skinny) ;;
      kp1) args=(--impl cuda.wgmma.skinny --config k_panels=1) ;;
      kp2) args=(--impl cuda.wgmma.skinny --config k_panels=2) ;;
      w1) args=(--impl cuda.wgmma.skinny --config k_panels=1,tile_rows=128) ;;
      cub) args=(--impl cublaslt) ;;
    esac
    $B bench --suite "$suite" "${args[@]}" --max-seconds 0.4 --json "$OUT/sk-$v-r$r.json" >"$OUT/sk-$v-r$r.log" 2>&1 || echo "!! $v r$r failed"
  done
done
python3 - "$OUT" "${ROUNDS:-3}" <<'P' | tee "$OUT/skinny-table.txt"
import json, statistics, sys
out, rounds = sys.argv[1], int(sys.argv[2])
vs = ["d", "kp1", "kp2", "w1", "cub"]
t = {}
order = []
for v in vs:
    for r in range(1, rounds + 1):
        try: rows = json.load(open(f"{out}/sk-{v}-r{r}.json"))["rows"]
        except Exception as e: print("missing", v, r, e); continue
        for row in rows:
            if row.get("status") != "PASSED": continue
            d = row["problem"]
            if d not in order: order.append(d)
            t.setdefault(d, {}).setdefault(v, []).append(row["median_s"] * 1e6)
print("%-44s" % "problem (median us; ratio = default / variant)" + "".join("%16s" % v for v in vs))
for d in order:
    base = statistics.median(t[d]["d"]) if "d" in t[d] else None
    cells = []
    for v in vs:
        if v not in t[d]: cells.append("%16s" % "-"); continue
        m = statistics.median(t[d][v])
        cells.append("%9.1f %5.3f" % (m, base / m if base else 0))
    print("%-44s" % d + " ".join(cells))
P
