#!/usr/bin/env bash
# Session 26, device call 4: cuda.wgmma.fp8's tile width on the m = 128, n = 28672 rows (block km read 0.921x
# cuBLASLt's block kernel in call 3, per-tensor 0.959x), tile_n 0 (the model's choice), 64, 96, 128, 256 and
# cuBLASLt, separate processes interleaved, ROUNDS rounds; then a median table. Bundle of call 2 (.devbinz).
set -uo pipefail
tar xzf .devbinz/b.tgz || exit 2
export LD_LIBRARY_PATH=$PWD/.devbin-rec TESSEL_CACHE_DIR=/tmp/tessel-cache
export TESSEL_COMMIT=$(cat .devbin-rec/COMMIT)
B=.devbin-rec/tessel
suite=/tmp/fp8rows.txt
printf '%s\n' "gemm m=128 n=28672 k=4096 dtype=e4m3 b=nk scale=block scale_layout=km" \
  "gemm m=128 n=28672 k=4096 dtype=e4m3 b=nk scale=tensor" >"$suite"
for cfg in tile_n=64 tile_n=96 tile_n=128 tile_n=256; do
  $B verify --suite "$suite" --impl cuda.wgmma.fp8 --config "$cfg" 2>&1 | grep -E 'verify:' | sed "s/^/[$cfg] /"
done
for r in $(seq 1 "${ROUNDS:-3}"); do
  for v in d 64 96 128 256 cub; do
    case $v in
      d) args=(--impl cuda.wgmma.fp8) ;;
      cub) args=(--impl cublaslt) ;;
      *) args=(--impl cuda.wgmma.fp8 --config tile_n=$v) ;;
    esac
    $B bench --suite "$suite" "${args[@]}" --max-seconds 0.4 --json "/tmp/fp8-$v-r$r.json" >/dev/null 2>&1 || echo "!! $v r$r"
  done
done
python3 - "${ROUNDS:-3}" <<'P' | tee "$OUT/fp8-m128-table.txt"
import json, statistics, sys
rounds = int(sys.argv[1]); vs = ["d", "64", "96", "128", "256", "cub"]; t = {}; order = []
for v in vs:
    for r in range(1, rounds + 1):
        for row in json.load(open(f"/tmp/fp8-{v}-r{r}.json"))["rows"]:
            if row["status"] != "PASSED": continue
            d = row["problem"]; order += [d] if d not in order else []
            t.setdefault(d, {}).setdefault(v, []).append(row["median_s"] * 1e6)
print("%-72s" % "problem (median us; ratio = default / variant)" + "".join("%15s" % v for v in vs))
for d in order:
    base = statistics.median(t[d]["d"])
    print("%-72s" % d + "".join("%8.1f %5.3f" % (statistics.median(t[d][v]), base / statistics.median(t[d][v])) if v in t[d] else "%15s" % "-" for v in vs))
P
