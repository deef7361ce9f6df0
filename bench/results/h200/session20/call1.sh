#!/usr/bin/env bash
# Session 20, device call 1 (issue 3): cuBLASLt's block-scaled fp8 kernel as a baseline (cublaslt, scale=block
# scale_layout=km). 1. verify cublaslt and cuda.wgmma.fp8 on block shapes cuBLASLt takes, and show what it
# refuses; 2. bench the per-tensor and km block rows of the fp8 suite, both impls, 3 interleaved rounds.
set -uo pipefail
tar xzf .devbinz/b.tgz && export TESSEL_CACHE_DIR=$OUT TESSEL_COMMIT=${TESSEL_COMMIT:-session20-call1}
export LD_LIBRARY_PATH=$PWD/.devbin
T=.devbin/tessel
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.mem --format=csv,noheader
python3 -c "import ctypes; l=ctypes.CDLL('libcublasLt.so.13'); print('cublasLt version', l.cublasLtGetVersion())" 2>&1 | tail -1
ldd $T | grep -i cublas
shapes=("gemm m=256 n=384 k=512 dtype=e4m3 b=nk scale=block scale_layout=km"
  "gemm m=132 n=640 k=1536 dtype=e4m3 b=nk scale=block scale_layout=km"
  "gemm m=1024 n=2000 k=2048 dtype=e4m3 b=nk scale=block scale_layout=km"
  "gemm m=4 n=4096 k=4096 dtype=e4m3 b=nk scale=block scale_layout=km"
  "gemm m=8 n=200 k=1024 dtype=e4m3 b=nk scale=block scale_layout=km")
timeout 200 $T verify "${shapes[@]}" --impl cublaslt 2>&1 | tail -12 | sed "s/^/verify cublaslt: /"
timeout 200 $T verify "${shapes[@]}" --impl cuda.wgmma.fp8 2>&1 | tail -8 | sed "s/^/verify ours: /"
$T verify "gemm m=256 n=384 k=384 dtype=e4m3 b=nk scale=block scale_layout=km" "gemm m=256 n=384 k=512 dtype=e4m3 b=nk scale=block" \
  --impl cublaslt 2>&1 | tail -4 | sed "s/^/refused: /"
echo "==== bench"
OUT=$OUT/ab timeout 420 scripts/gpu-ab bench/results/h200/session20/fp8-km-lines.txt cur=.devbin/tessel \
  --rounds 3 --max-seconds 0.3 --impl cuda.wgmma.fp8,cublaslt 2>&1 | tail -40
cd "$OUT" && tar czf /tmp/all.tgz . && find . -mindepth 1 -delete && mv /tmp/all.tgz .
