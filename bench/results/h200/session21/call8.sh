#!/usr/bin/env bash
# Session 21, device call 8: the recorded bf16 and fp8 gemm suites at this session's kernels (skinny maps
# with 128-byte L2 promotion, 128 x 64 block-scaled fp8 tiles), every implementation beside cuBLASLt.
set -uo pipefail
tar xzf .devbinz/b.tgz && export TESSEL_CACHE_DIR=$OUT TESSEL_COMMIT=${TESSEL_COMMIT:-64248a2-session21}
export LD_LIBRARY_PATH=$PWD/.devbin
T=.devbin/tessel
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.mem,temperature.gpu,power.draw --format=csv
timeout 280 $T bench --suite bench/suites/gemm-h200.txt --impl 'cuda.wgmma*,cublaslt' --max-seconds 0.3 \
  --json $OUT/gemm-2026-11-30-session21.json > $OUT/gemm-2026-11-30-session21.txt 2>&1; echo "bf16 rc=$?"
timeout 250 $T bench --suite bench/suites/gemm-h200-fp8.txt --impl 'cuda.wgmma.fp8,cublaslt' --max-seconds 0.3 \
  --json $OUT/gemm-fp8-2026-11-30-session21.json > $OUT/gemm-fp8-2026-11-30-session21.txt 2>&1; echo "fp8 rc=$?"
grep -E "^gemm|PASSED|FAIL|ERROR" $OUT/gemm-2026-11-30-session21.txt | grep -v REPRO | cut -c1-110 | tail -80
