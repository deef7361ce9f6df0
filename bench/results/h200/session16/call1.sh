#!/usr/bin/env bash
# Session 16, device call 1. Why torch.compile's rmsnorm reads 103% of our copy probe at 16384 x 8192 (bf16) where
# cuda.fused reads 99% (docs/fusion.md, session 13's run: 0.97x compile). Dumps Inductor's generated Triton kernel
# (source, PTX) and profiles it and ours with ncu (clocks not locked), same sections, for both rmsnorm shapes
# below 1.0x compile (16384 x 8192, 65536 x 1024).
set -uo pipefail
tar xzf .devbinz/b.tgz && export LD_LIBRARY_PATH=$PWD/.devbin TESSEL_CACHE_DIR=$OUT TESSEL_COMMIT=${TESSEL_COMMIT:-session16-call1}
cat > /tmp/rms.py <<'PY'
import sys, torch, torch.nn.functional as F
rows, cols = int(sys.argv[1]), int(sys.argv[2])
x = torch.randn(rows, cols, device="cuda", dtype=torch.bfloat16)
w = torch.randn(cols, device="cuda", dtype=torch.bfloat16)
fn = torch.compile(lambda x, w: F.rms_norm(x, (cols,), w, 1e-6))
for _ in range(3):
    y = fn(x, w)
torch.cuda.synchronize()
PY
export TORCHINDUCTOR_CACHE_DIR=$OUT/inductor
secs="--section SpeedOfLight --section LaunchStats --section Occupancy --section MemoryWorkloadAnalysis --section WarpStateStats --section MemoryWorkloadAnalysis_Tables"
for shape in "16384 8192" "65536 1024"; do
  set -- $shape
  TORCH_LOGS=output_code timeout 240 python /tmp/rms.py $1 $2 >"$OUT/output_code-$1x$2.txt" 2>&1
  echo "== compile $1 x $2: $(grep -c 'def triton' "$OUT/output_code-$1x$2.txt") triton kernels"
  timeout 200 ncu --clock-control none $secs -k regex:triton -c 1 python /tmp/rms.py $1 $2 >"$OUT/ncu-triton-$1x$2.txt" 2>&1
  timeout 100 ncu --clock-control none $secs -k regex:stash_kernel -c 1 .devbin/tessel bench "rmsnorm rows=$1 cols=$2 dtype=bf16" \
    --impl cuda.fused --max-seconds 0.05 >"$OUT/ncu-ours-$1x$2.txt" 2>&1
  for f in triton ours; do
    echo "-- $f"
    grep -E "^  [a-z_]+.*\(|Duration|DRAM Throughput|Memory Throughput|Block Size|Grid Size|Registers Per|Achieved Occupancy|Theoretical Occupancy|Waves Per SM|L2 Hit|L1/TEX Hit|Warp Cycles Per Issued|Shared Memory Config" "$OUT/ncu-$f-$1x$2.txt" | head -24
  done
done
find "$OUT/inductor" -name "*.ptx" | head -5
cd "$OUT" && tar czf /tmp/all.tgz . && find . -mindepth 1 -delete && mv /tmp/all.tgz .
