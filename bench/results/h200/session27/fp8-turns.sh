#!/usr/bin/env bash
# Session 27, device call 1: cuda.wgmma.fp8's block-scaled loop with the consumers issuing their stages'
# batches in turns (--config turns=1: consumer 0, 1, 0, 1, ... through named barriers 4 and 5) against the
# default (each consumer issues when its stage is full). Hypothesis: without turns the two consumers'
# batches interleave in the tensor cores, finish together and promote together, leaving the tensor cores
# idle for a promotion per stage; in turns each batch queues whole behind the other's, so one consumer
# promotes while the other's batch runs. Checks first (verify and compute-sanitizer with turns=1), then
# ROUNDS interleaved rounds of default / turns=1 / cuBLASLt (its per-tensor and block kernels) in
# separate processes, and a median table. Bundle: scripts/device-bundle .devbinz, packed as .devbin-rec in
# .devbinz/b.tgz (carried).
set -uo pipefail
tar xzf .devbinz/b.tgz || exit 2
export LD_LIBRARY_PATH=$PWD/.devbin-rec TESSEL_CACHE_DIR=/tmp/tessel-cache
export TESSEL_COMMIT=$(cat .devbin-rec/COMMIT)
B=.devbin-rec/tessel
echo "== verify, turns=1"
$B verify "gemm m=130 n=257 k=384 dtype=e4m3 scale=block b=nk" "gemm m=200 n=136 k=80 dtype=e4m3 scale=block b=nk" \
  "gemm m=300 n=520 k=1008 dtype=e4m3 scale=block b=nk" "gemm m=4095 n=4097 k=4096 dtype=e4m3 scale=block b=nk" \
  "gemm m=257 n=1000 k=640 dtype=e4m3 scale=block b=nk bias=true act=silu residual=true" \
  "gemm m=260 n=1000 k=512 dtype=e4m3 scale=block scale_layout=km b=nk bias=true act=silu residual=true" \
  "gemm m=4096 n=4097 k=4096 dtype=e4m3 scale=block scale_layout=km b=nk" \
  "gemm m=1024 n=6008 k=1024 dtype=e4m3 scale=block scale_layout=km b=nk" \
  "gemm m=2048 n=2048 k=256 dtype=e4m3 scale=block b=nk" "gemm m=2048 n=2048 k=256 dtype=e4m3 scale=block scale_layout=km b=nk" \
  "gemm m=8192 n=8192 k=8192 dtype=e4m3 scale=block scale_layout=km b=nk" "gemm m=4096 n=4096 k=4096 dtype=e4m3 scale=block b=nk" \
  --impl cuda.wgmma.fp8 --config turns=1 2>&1 | grep -E "PASS|FAIL|verify:" | tail -14
for tool in memcheck racecheck; do
  echo "== compute-sanitizer $tool, turns=1"
  compute-sanitizer --tool $tool --error-exitcode 99 $B verify "gemm m=130 n=257 k=384 dtype=e4m3 scale=block b=nk" \
    "gemm m=1280 n=1280 k=256 dtype=e4m3 scale=block b=nk" "gemm m=1280 n=1280 k=256 dtype=e4m3 scale=block scale_layout=km b=nk" \
    --impl cuda.wgmma.fp8 --config turns=1 >/tmp/san-$tool.log 2>&1
  echo "rc=$?"; tail -3 /tmp/san-$tool.log
done
suite=/tmp/fp8-block.txt
printf '%s\n' \
  "gemm m=4096 n=4096 k=4096 dtype=e4m3 scale=block scale_layout=km b=nk" "gemm m=4096 n=4096 k=4096 dtype=e4m3 scale=block b=nk" \
  "gemm m=8192 n=8192 k=8192 dtype=e4m3 scale=block scale_layout=km b=nk" "gemm m=8192 n=8192 k=8192 dtype=e4m3 scale=block b=nk" \
  "gemm m=6144 n=6144 k=6144 dtype=e4m3 scale=block scale_layout=km b=nk" \
  "gemm m=4096 n=28672 k=4096 dtype=e4m3 scale=block scale_layout=km b=nk" \
  "gemm m=4096 n=4096 k=14336 dtype=e4m3 scale=block scale_layout=km b=nk" \
  "gemm m=1024 n=28672 k=4096 dtype=e4m3 scale=block scale_layout=km b=nk" >"$suite"
sed 's/scale=block scale_layout=km/scale=tensor/; s/scale=block b=nk/scale=tensor b=nk/' "$suite" | sort -u >/tmp/fp8-tensor.txt
for r in $(seq 1 "${ROUNDS:-3}"); do
  for v in d t cub; do
    case $v in
      d) $B bench --suite "$suite" --impl cuda.wgmma.fp8 --max-seconds 0.4 --json "/tmp/fp8-$v-r$r.json" >/dev/null 2>&1 || echo "!! $v r$r" ;;
      t) $B bench --suite "$suite" --impl cuda.wgmma.fp8 --config turns=1 --max-seconds 0.4 --json "/tmp/fp8-$v-r$r.json" >/dev/null 2>&1 || echo "!! $v r$r" ;;
      cub) $B bench --suite /tmp/fp8-tensor.txt --impl cublaslt --max-seconds 0.4 --json "/tmp/fp8-$v-r$r.json" >/dev/null 2>&1 || echo "!! $v r$r" ;;
    esac
  done
done
cp /tmp/fp8-*-r1.json "$OUT/" 2>/dev/null
python3 - "${ROUNDS:-3}" <<'P' | tee "$OUT/fp8-turns-table.txt"
import json, statistics, sys
rounds = int(sys.argv[1]); t = {}; order = []
for v in ["d", "t", "cub"]:
    for r in range(1, rounds + 1):
        try: rows = json.load(open(f"/tmp/fp8-{v}-r{r}.json"))["rows"]
        except Exception as e: print("missing", v, r, e); continue
        for row in rows:
            if row["status"] != "PASSED": continue
            d = row["problem"]; order += [d] if d not in order else []
            t.setdefault(d, {}).setdefault(v, []).append(row["median_s"] * 1e6)
def tensor_of(d): return d.replace("scale=block scale_layout=km", "scale=tensor").replace("scale=block b=nk", "scale=tensor b=nk")
print("%-70s %9s %9s %7s %9s %8s %8s" % ("problem (median us of rounds)", "default", "turns", "d/t", "cuBLASLt", "cub/d", "cub/t"))
for d in order:
    if "scale=block" not in d or "d" not in t[d]: continue
    dm = statistics.median(t[d]["d"]); tm = statistics.median(t[d]["t"]) if "t" in t[d] else float("nan")
    cb = statistics.median(t[tensor_of(d)]["cub"]) if tensor_of(d) in t and "cub" in t[tensor_of(d)] else float("nan")
    print("%-70s %9.1f %9.1f %7.3f %9.1f %8.3f %8.3f" % (d, dm, tm, dm / tm, cb, cb / dm, cb / tm))
P
