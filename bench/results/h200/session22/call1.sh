#!/usr/bin/env bash
# Session 22, device call 1 (diagnosis, no code change).
# Issue 4: torch.compile's rmsnorm read 1.04x ours at 16384 x 8192 (session 16): Inductor's generated
#   kernel (TORCH_LOGS=output_code), both timed side by side, and ncu of both (launch, occupancy, memory,
#   warp states); rmsnorm_quant at the same shape (88.8% of copy) profiled beside them.
# Issue 3: cuBLASLt's kernel at m = 16, n = 28672 (name, so tile and cluster shape) and its ncu beside ours.
set -uo pipefail
tar xzf .devbinz/b.tgz && export TESSEL_CACHE_DIR=$OUT TESSEL_COMMIT=${TESSEL_COMMIT:-session22-call1}
export LD_LIBRARY_PATH=$PWD/.devbin
T=.devbin/tessel
P="rmsnorm rows=16384 cols=8192 dtype=bf16"
Q="rmsnorm_quant rows=16384 cols=8192 dtype=bf16"
SECS="--section SpeedOfLight --section Occupancy --section LaunchStats --section MemoryWorkloadAnalysis --section WarpStateStats --section SchedulerStats"
timeout 60 $T bench "$P" "$Q" --impl cuda.fused --max-seconds 0.5 --json $OUT/ours.json 2>&1 | tail -4
timeout 60 $T bench "$P" --impl cuda.fused --config slots=2 --max-seconds 0.5 2>&1 | tail -2
TORCH_LOGS=output_code timeout 150 python3 scripts/torch-compare "$P" "$Q" --impl torch.compile --max-seconds 0.5 \
  --json $OUT/torch.json --tessel $OUT/ours.json >$OUT/inductor-code.log 2>&1
grep -A8 "^problem" $OUT/inductor-code.log | head -12
timeout 60 ncu $SECS -k regex:stash_kernel -c 1 $T bench "$P" --impl cuda.fused --max-seconds 0.05 >$OUT/ncu-ours-rmsnorm.txt 2>&1
timeout 60 ncu $SECS -k regex:stash_kernel -c 1 $T bench "$Q" --impl cuda.fused --max-seconds 0.05 >$OUT/ncu-ours-rmsnorm-quant.txt 2>&1
timeout 120 ncu $SECS -k regex:triton --launch-skip 6 -c 1 python3 scripts/torch-compare "$P" --impl torch.compile \
  --max-seconds 0.1 >$OUT/ncu-inductor-rmsnorm.txt 2>&1
for f in $OUT/ncu-*.txt; do
  echo "== $f"; grep -E "^  [a-z_]+.*\(|Duration|DRAM Throughput|Memory Throughput|Registers Per|Block Size|Grid Size|Achieved Occupancy|Theoretical Occupancy|L2 Hit|L1/TEX Hit|Warp Cycles Per Issued|Issued Warp Per|No Eligible" $f | head -20
done
G="gemm m=16 n=28672 k=4096 dtype=bf16 b=nk"
timeout 60 ncu $SECS -c 3 $T bench "$G" --impl cublaslt --max-seconds 0.05 >$OUT/ncu-cublaslt-m16.txt 2>&1
timeout 60 ncu $SECS -k regex:skinny -c 1 $T bench "$G" --impl cuda.wgmma.skinny --max-seconds 0.05 >$OUT/ncu-skinny-m16.txt 2>&1
for f in $OUT/ncu-cublaslt-m16.txt $OUT/ncu-skinny-m16.txt; do
  echo "== $f"; grep -E "^  [a-zA-Z_]+.*\(|Duration|DRAM Throughput|Registers Per|Block Size|Grid Size|Cluster|L2 Hit|Warp Cycles Per Issued" $f | head -40
done
cd "$OUT" && tar czf /tmp/all.tgz . && find . -mindepth 1 -delete && mv /tmp/all.tgz .
