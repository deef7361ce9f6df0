#!/usr/bin/env bash
# Session 9, device call 2 (issue 3): the skinny kernel as persistent runs over a line of K stages
# (stream-K, tc::StreamKRuns), base = main 42dd992. Correctness first (device tests, verify of odd
# shapes under every schedule, memcheck and racecheck where tiles are shared and a CTA crosses tiles),
# then an A/B against base with cuBLASLt in the same rounds.
set -uo pipefail
tar xzf .devbinz/b.tgz && export LD_LIBRARY_PATH=$PWD/.devbin TESSEL_CACHE_DIR=$OUT TESSEL_COMMIT=42dd992+streamk
S=bench/results/h200/session9
T=.devbin/tessel
timeout 120 .devbin/tessel_cuda_tests --gtest_brief=1 >"$OUT/tests.log" 2>&1; echo "tests rc=$?"; tail -3 "$OUT/tests.log"
SH=("gemm m=1 n=4097 k=4104 dtype=bf16 b=nk" "gemm m=5 n=9000 k=1032 dtype=bf16 b=nk bias=true act=silu residual=true"
    "gemm m=33 n=8500 k=520 dtype=bf16 b=nk out=f32 act=gelu" "gemm m=64 n=200 k=8 dtype=bf16 b=nk"
    "gemm m=17 n=64 k=2048 dtype=bf16 b=nk" "gemm m=16 n=9600 k=256 dtype=bf16 b=nk" "gemm m=16 n=28672 k=4096 dtype=bf16 b=nk"
    "gemm m=8 n=8192 k=8192 dtype=bf16 b=nk" "gemm m=64 n=1000 k=3000 dtype=bf16 b=nk residual=true")
for cfg in "schedule=0" "schedule=1" "schedule=2" "schedule=2,k_panels=1" "schedule=1,splits=4"; do
  timeout 100 $T verify "${SH[@]}" --impl cuda.wgmma.skinny --config "$cfg" >"$OUT/verify-$cfg.log" 2>&1
  echo "verify $cfg: $(tail -1 "$OUT/verify-$cfg.log")"; grep -E "FAILED|error" "$OUT/verify-$cfg.log" | head -3
done
timeout 60 $T verify --impl cuda.wgmma.skinny >"$OUT/verify-samples.log" 2>&1; echo "samples: $(tail -1 "$OUT/verify-samples.log")"
for shp in "gemm m=17 n=64 k=2048 dtype=bf16 b=nk" "gemm m=16 n=9600 k=256 dtype=bf16 b=nk act=silu"; do
  timeout 100 compute-sanitizer --tool memcheck --error-exitcode 99 $T verify "$shp" --impl cuda.wgmma.skinny --config schedule=2 >"$OUT/memcheck.log" 2>&1; echo "memcheck rc=$? $shp"; tail -2 "$OUT/memcheck.log"
  timeout 100 compute-sanitizer --tool racecheck --error-exitcode 99 $T verify "$shp" --impl cuda.wgmma.skinny --config schedule=2 >"$OUT/racecheck.log" 2>&1; echo "racecheck rc=$? $shp"; tail -2 "$OUT/racecheck.log"
done
OUT=$OUT/ab timeout 260 scripts/gpu-ab $S/skinny-ab.txt base=.devbin-base/tessel auto=$T stream="$T:--config schedule=2" tiles="$T:--config schedule=1" \
  --impl 'cuda.wgmma.skinny,cublaslt' --rounds 2 --max-seconds 0.2 >"$OUT/ab.log" 2>&1; grep -A16 "^problem" "$OUT/ab.log"
cd "$OUT" && tar czf /tmp/all.tgz . && find . -mindepth 1 -delete && mv /tmp/all.tgz .
