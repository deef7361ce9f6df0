#!/usr/bin/env bash
# Session 15, device call 2. .devbin/tessel = call 1's default build (main ef8b570 behaviour); tessel-kp2 and
# tessel-kp4 = main 1a045a4 plus K panels in cuda.wgmma (kp-dropped.patch), built with -DTESSEL_EXP_KP=2 / 4: tile_n=48
# (128 x 48) then loads 2 or 4 adjacent 64-wide K panels a stage (4 stages of 2 panels, 2 of 4: the same
# shared memory), so each weight row is read in runs of 256 or 512 bytes instead of 128. Why: the skinny
# kernel's 512-byte runs were 1.14x faster than its 128-byte ones at m = 16, n = 6144 (session 14's tune,
# call 5: 18.56 against 21.20 us), and cuda.wgmma reads 128 bytes of a row a stage. Correctness first
# (verify of odd K on both epilogue paths, memcheck, racecheck), then the A/B on cs48-lines.txt, 3 rounds.
set -uo pipefail
tar xzf .devbinz/b.tgz && export LD_LIBRARY_PATH=$PWD/.devbin TESSEL_CACHE_DIR=$OUT TESSEL_COMMIT=${TESSEL_COMMIT:-session15-call2}
odd=("gemm m=16 n=6144 k=4096 dtype=bf16 b=nk" "gemm m=5 n=1000 k=4104 dtype=bf16 b=nk" "gemm m=64 n=96 k=64 dtype=bf16 b=nk"
  "gemm m=16 n=6008 k=1000 dtype=bf16 b=nk out=f32" "gemm m=33 n=1000 k=4104 dtype=bf16 b=nk bias=true act=gelu"
  "gemm m=1 n=5120 k=4096 dtype=bf16 b=nk out=f32 bias=true act=silu" "gemm m=130 n=100 k=72 dtype=bf16 b=nk residual=true"
  "gemm m=57 n=777 k=136 dtype=bf16 b=nk" "gemm m=1 n=200 k=520 dtype=bf16 b=nk" "gemm m=200 n=6000 k=520 dtype=bf16 b=nk out=f32")
for X in .devbin/tessel-kp2 .devbin/tessel-kp4; do
  echo "== $X"
  timeout 200 $X verify "${odd[@]}" --impl cuda.wgmma --config tile_n=48,splits=1 2>&1 | grep -E "FAILED|ERROR|verify:|rror"
  for tool in memcheck racecheck; do
    timeout 120 compute-sanitizer --tool $tool --print-limit 5 $X verify "gemm m=130 n=200 k=136 dtype=bf16 b=nk" \
      "gemm m=40 n=200 k=200 dtype=bf16 b=nk out=f32 bias=true" "gemm m=16 n=296 k=520 dtype=bf16 b=nk" --impl cuda.wgmma \
      --config tile_n=48,splits=1 2>&1 | grep -E "ERROR SUMMARY|RACECHECK SUMMARY|FAILED" | sed "s/^/$tool: /"
  done
done
echo "==== A/B"
OUT=$OUT/ab timeout 300 scripts/gpu-ab bench/results/h200/session15/cs48-lines.txt def=.devbin/tessel kp2=.devbin/tessel-kp2 \
  kp4=.devbin/tessel-kp4 --impl cuda.wgmma,cublaslt --rounds 3 --max-seconds 0.2 2>&1 | tail -14
cd "$OUT" && tar czf /tmp/all.tgz . && find . -mindepth 1 -delete && mv /tmp/all.tgz .
