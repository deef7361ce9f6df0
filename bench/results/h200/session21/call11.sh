#!/usr/bin/env bash
# Session 21, device call 11: after the split-K hand-off became one helper (reduce_splits in
# cuda_epilogue.cuh) for cuda.wgmma and cuda.wgmma.fp8: verify both kernels' split paths (forced and
# default), racecheck on one of each, and time the two rows that split by default.
set -uo pipefail
tar xzf .devbinz/b.tgz && export TESSEL_CACHE_DIR=$OUT TESSEL_COMMIT=${TESSEL_COMMIT:-session21-call11}
export LD_LIBRARY_PATH=$PWD/.devbin
T=.devbin/tessel
timeout 60 $T verify "gemm m=130 n=257 k=4104 dtype=bf16 b=nk" "gemm m=128 n=4096 k=14336 dtype=bf16 b=nk" \
  --impl cuda.wgmma --config tile_n=128,splits=4,cluster_k=1 2>&1 | grep -E "FAILED|ERROR|rror|PASSED" | cut -c1-120 | sed "s/^/verify bf16 splits=4: /"
timeout 60 $T verify "gemm m=128 n=4096 k=14336 dtype=bf16 b=nk" "gemm m=128 n=4096 k=4096 dtype=bf16 b=nk" --impl cuda.wgmma 2>&1 \
  | grep -E "FAILED|ERROR|rror|PASSED" | cut -c1-120 | sed "s/^/verify bf16 default: /"
timeout 60 $T verify "gemm m=130 n=257 k=1008 dtype=e4m3 scale=block b=nk" "gemm m=128 n=4096 k=14336 dtype=e4m3 b=nk scale=block scale_layout=km" \
  --impl cuda.wgmma.fp8 --config tile_n=64,splits=2 2>&1 | grep -E "FAILED|ERROR|rror|PASSED" | cut -c1-120 | sed "s/^/verify fp8 splits=2: /"
timeout 60 compute-sanitizer --tool racecheck $T verify "gemm m=130 n=257 k=4104 dtype=bf16 b=nk" --impl cuda.wgmma \
  --config tile_n=128,splits=2,cluster_k=1 2>&1 | grep -E "SUMMARY|PASSED|FAILED" | sed "s/^/racecheck bf16: /"
timeout 60 compute-sanitizer --tool racecheck $T verify "gemm m=130 n=257 k=1008 dtype=e4m3 scale=block b=nk" --impl cuda.wgmma.fp8 \
  --config tile_n=64,splits=2 2>&1 | grep -E "SUMMARY|PASSED|FAILED" | sed "s/^/racecheck fp8: /"
timeout 60 $T bench "gemm m=128 n=4096 k=14336 dtype=e4m3 b=nk scale=block scale_layout=km" "gemm m=128 n=4096 k=14336 dtype=bf16 b=nk" \
  --impl 'cuda.wgmma,cuda.wgmma.fp8,cublaslt' --max-seconds 0.3 2>&1 | grep -E "^gemm|PASSED|FAIL" | cut -c1-100
