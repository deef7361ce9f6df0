#!/usr/bin/env bash
# Session 12, device call 2. new = .devbin (main 7178148 plus: rmsnorm_quant through write_quant_rms for bf16
# x, f32 x back on the two-reduction chain after call 1's 0.80x; bf16 GPT-J rope at 4 short-row blocks an SM;
# the skinny GEMM's 128-row tiles chosen where m > 8 and they fill every SM). old = .devbin-base (main 7178148).
# Correctness first: every CUDA unit test, gpu-fusion's checks, verify of the skinny kernel's new default.
# Then A/B: the fusion lines (ab2-lines.txt) and the skinny lines (skinny2-lines.txt), 3 interleaved rounds,
# and cuBLASLt on the skinny lines.
set -uo pipefail
tar xzf .devbinz/b.tgz && export LD_LIBRARY_PATH=$PWD/.devbin TESSEL_CACHE_DIR=$OUT TESSEL_COMMIT=${TESSEL_COMMIT:-session12-call2}
.devbin/tessel_cuda_tests 2>&1 | tail -3
SKIP_BENCH=1 OUT=$OUT/check scripts/gpu-fusion .devbin 2>&1 | grep -E "ERROR SUMMARY|step failed|==== done|FAILED|passed,"
.devbin/tessel verify "gemm m=16 n=28672 k=4096 dtype=bf16 b=nk" "gemm m=12 n=17000 k=1032 dtype=bf16 b=nk out=f32" \
  "gemm m=9 n=20000 k=520 dtype=bf16 b=nk bias=true act=gelu residual=true" "gemm m=16 n=16900 k=4104 dtype=bf16 b=nk" \
  --impl cuda.wgmma.skinny 2>&1 | tail -5
echo "==== A/B fusion"
OUT=$OUT/ab scripts/gpu-ab bench/results/h200/session12/ab2-lines.txt old=.devbin-base/tessel new=.devbin/tessel --rounds 3 --max-seconds 0.3 2>&1 | tail -15
echo "==== A/B skinny"
OUT=$OUT/skinny scripts/gpu-ab bench/results/h200/session12/skinny2-lines.txt old=.devbin-base/tessel new=.devbin/tessel \
  --impl cuda.wgmma.skinny --rounds 3 --max-seconds 0.25 2>&1 | tail -7
.devbin/tessel bench --suite bench/results/h200/session12/skinny2-lines.txt --impl cublaslt --max-seconds 0.25 \
  --json $OUT/skinny-cublas.json 2>&1 | grep -E "PASSED|FAILED" | tail -6
cd "$OUT" && tar czf /tmp/all.tgz . && find . -mindepth 1 -delete && mv /tmp/all.tgz .
