#!/usr/bin/env bash
# Session 12, device call 1.
# Issue 4: rmsnorm_quant through write_quant_rms (include/tessel/fuse/ops.hpp): codes of x * w scaled by
# qmax / max|x * w| (1 / rms(x) cancels in the codes and stays in the scale alone), so one row reduction
# (sum x^2 and max |x * w| together) instead of two in sequence. old = .devbin-base (main 7178148), new =
# .devbin (the same plus the new op). Correctness of new first (gpu-fusion's checks: device tests with the new
# FuseCuda.RmsQuantizingWrite, every sample, the odd shapes, memcheck), then 3 interleaved rounds.
# Issue 3: the skinny kernel at m = 1 / 8 / 16 on the same weights (skinny-m-lines.txt) with 64-row tiles (the
# default) and 128-row tiles (new config tile_rows=128, two consumer warpgroups sharing each stage of A: half
# of A's L2 reads per weight byte), 2 interleaved rounds; cuBLASLt on the same lines; verify of the new config.
set -uo pipefail
tar xzf .devbinz/b.tgz && export LD_LIBRARY_PATH=$PWD/.devbin TESSEL_CACHE_DIR=$OUT TESSEL_COMMIT=${TESSEL_COMMIT:-session12-call1}
SKIP_BENCH=1 OUT=$OUT/check scripts/gpu-fusion .devbin 2>&1 | grep -E "PASSED|ERROR SUMMARY|step failed|==== done|FAILED|passed,"
echo "==== A/B"
OUT=$OUT/ab scripts/gpu-ab bench/results/h200/session12/rmsq-lines.txt old=.devbin-base/tessel new=.devbin/tessel --rounds 3 --max-seconds 0.4 2>&1 | tail -12
echo "==== skinny: m sweep, 64- against 128-row weight tiles (tile_rows=128: two consumers share A's stages)"
OUT=$OUT/skinny scripts/gpu-ab bench/results/h200/session12/skinny-m-lines.txt r64=.devbin/tessel \
  r128=".devbin/tessel:--config tile_rows=128" r128s2=".devbin/tessel:--config tile_rows=128,splits=2" \
  --impl cuda.wgmma.skinny --rounds 2 --max-seconds 0.25 2>&1 | tail -9
echo "==== skinny and cuBLASLt, same lines"
.devbin/tessel bench --suite bench/results/h200/session12/skinny-m-lines.txt --impl 'cuda.wgmma.skinny,cublaslt' \
  --max-seconds 0.3 --json $OUT/skinny-cublas.json 2>&1 | grep -vE "^\[|roofline" | tail -16
.devbin/tessel verify "gemm m=16 n=28672 k=4096 dtype=bf16 b=nk" "gemm m=13 n=1000 k=4104 dtype=bf16 b=nk" \
  "gemm m=1 n=8192 k=8192 dtype=bf16 b=nk out=f32" "gemm m=5 n=300 k=520 dtype=bf16 b=nk bias=true act=silu residual=true" --impl cuda.wgmma.skinny --config tile_rows=128,splits=2 2>&1 | tail -4
cd "$OUT" && tar czf /tmp/all.tgz . && find . -mindepth 1 -delete && mv /tmp/all.tgz .
