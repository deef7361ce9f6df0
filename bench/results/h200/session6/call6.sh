#!/usr/bin/env bash
# Session 6, device call 6 (issue 3): block scale_a in the km layout ([k_blocks, m]: a tile's 128 row
# scales contiguous), staged by the producer's TMA as one 512-byte box per stage (kBlockStaged),
# beside the mk layout (consumer loads, unchanged) and cuBLASLt per-tensor, one binary, 2 rounds.
set -uo pipefail
tar xzf .devbinz/b.tgz && export LD_LIBRARY_PATH=$PWD/.devbin TESSEL_CACHE_DIR=$OUT
T=.devbin/tessel
$T verify "gemm m=132 n=257 k=640 dtype=e4m3 scale=block scale_layout=km b=nk" \
  "gemm m=7 n=130 k=300 dtype=e4m3 scale=block scale_layout=km b=nk" "gemm m=1 n=4096 k=4096 dtype=e4m3 scale=block scale_layout=km b=nk" \
  "gemm m=260 n=1000 k=512 dtype=e4m3 scale=block scale_layout=km b=nk bias=true act=silu residual=true" \
  "gemm m=4096 n=4097 k=4096 dtype=e4m3 scale=block scale_layout=km b=nk" "gemm m=200 n=136 k=80 dtype=e4m3 scale=block scale_layout=km b=nk" \
  "gemm m=300 n=520 k=1008 dtype=e4m3 scale=block b=nk" --impl cuda.wgmma.fp8 >"$OUT/verify.log" 2>&1; tail -1 "$OUT/verify.log"
$T verify --impl cuda.wgmma.fp8 >"$OUT/verify-samples.log" 2>&1; tail -1 "$OUT/verify-samples.log"
compute-sanitizer --tool racecheck $T verify "gemm m=132 n=257 k=640 dtype=e4m3 scale=block scale_layout=km b=nk" \
  --impl cuda.wgmma.fp8 >"$OUT/san-racecheck.log" 2>&1; tail -1 "$OUT/san-racecheck.log"
grep -E "m=(4096|8192) n=\1 k=\1 |m=4096 n=28672 |m=4096 n=4096 k=14336 .*block|m=1024 n=28672 .*block" \
  bench/suites/gemm-h200-fp8.txt >"$OUT/suite.txt"
OUT=$OUT/ab timeout 170 scripts/gpu-ab "$OUT/suite.txt" new=.devbin/tessel \
  --impl 'cuda.wgmma.fp8,cublaslt' --max-seconds 0.2 --rounds 2 2>&1 | tail -16
