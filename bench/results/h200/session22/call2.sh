#!/usr/bin/env bash
# Session 22, device call 2 (issue 4): the reducing fused chains with the row re-read from L2 in the
# passes after the first (tunable reread=1, Inductor's looped-reduction shape) against the register
# stash. 1. verify with reread=1 at 2 and 4 slots on odd shapes of every reducing op; 2. the suite's
# reducing lines, 4 variants in 3 interleaved rounds; 3. torch.compile on the rmsnorm lines beside them;
# 4. issue 3: ncu of cuBLASLt's kernel at m = 16, n = 28672.
set -uo pipefail
tar xzf .devbinz/b.tgz && export TESSEL_CACHE_DIR=$OUT TESSEL_COMMIT=${TESSEL_COMMIT:-session22-call2}
export LD_LIBRARY_PATH=$PWD/.devbin
T=.devbin/tessel
D=bench/results/h200/session22
for cfg in "reread=1 slots=2" "reread=1 slots=4"; do
  timeout 120 $T verify "rmsnorm rows=7 cols=1000 dtype=bf16" "rmsnorm rows=3 cols=8 dtype=bf16" \
    "rmsnorm rows=33 cols=8192 dtype=f32" "rmsnorm_quant rows=5 cols=4104 dtype=bf16" \
    "rmsnorm_quant rows=9 cols=1000 dtype=bf16 quant=i8" "rmsnorm_residual rows=6 cols=2056 dtype=bf16" \
    "layernorm rows=11 cols=1000 dtype=bf16" "softmax rows=5 cols=16384 dtype=bf16" "softmax rows=1 cols=8 dtype=f32" \
    "swiglu rows=7 cols=1000 dtype=bf16 quant=e4m3" "rmsnorm rows=1 cols=16384 dtype=bf16" \
    --impl cuda.fused --config $cfg 2>&1 | grep -E "FAILED|ERROR|rror|PASSED" | cut -c1-110 | sed "s/^/verify $cfg: /"
done
OUT=$OUT/ab timeout 330 scripts/gpu-ab $D/reduce-lines.txt a=$T "rr2=$T:--config reread=1 slots=2" \
  "rr4=$T:--config reread=1 slots=4" "s2=$T:--config slots=2" --rounds 3 --max-seconds 0.3 2>&1 | tail -22
timeout 120 python3 scripts/torch-compare "rmsnorm rows=16384 cols=8192 dtype=bf16" "rmsnorm rows=4096 cols=4096 dtype=bf16" \
  "rmsnorm rows=65536 cols=1024 dtype=bf16" --impl torch.compile --max-seconds 0.5 --json $OUT/torch.json 2>&1 | tail -4
# Issue 3 (call 1 profiled only the harness's kernels for cuBLASLt): its m = 16, n = 28672 kernel.
G="gemm m=16 n=28672 k=4096 dtype=bf16 b=nk"
timeout 90 ncu --section SpeedOfLight --section LaunchStats --section MemoryWorkloadAnalysis -c 14 $T bench "$G" \
  --impl cublaslt --max-seconds 0.05 >$OUT/ncu-cublaslt-m16.txt 2>&1
grep -E "^  [a-zA-Z_].*\(|Duration|DRAM Throughput|Grid Size|Cluster Size|Block Size|L2 Hit" $OUT/ncu-cublaslt-m16.txt | grep -v -E "fill_words|read_flush|hold_stream" | head -30
cd "$OUT" && tar czf /tmp/all.tgz . && find . -mindepth 1 -delete && mv /tmp/all.tgz .
