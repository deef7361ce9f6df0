#!/usr/bin/env bash
# Session 7, device call 1 (issue 3): diagnostics, no new kernel. (1) bf16 m=128 and skinny shapes
# under each K-split / stage-width config against cuBLASLt, one process per config; (2) ncu on the
# m=128 kernel, the skinny kernel, cuBLASLt's skinny kernel and the fp8 km kernel, to see where the
# time goes (DRAM vs L2 vs issue).
set -uo pipefail
tar xzf .devbinz/b.tgz && export LD_LIBRARY_PATH=$PWD/.devbin TESSEL_CACHE_DIR=$OUT
T=.devbin/tessel
$T probe >"$OUT/probe.log" 2>&1; grep -iE "copy|bf16" "$OUT/probe.log" | head -4
cat >"$OUT/m128.txt" <<'S'
gemm m=128 n=6144 k=4096 dtype=bf16 b=nk
gemm m=128 n=4096 k=4096 dtype=bf16 b=nk
gemm m=128 n=28672 k=4096 dtype=bf16 b=nk
gemm m=128 n=4096 k=14336 dtype=bf16 b=nk
S
cat >"$OUT/skinny.txt" <<'S'
gemm m=1 n=8192 k=8192 dtype=bf16 b=nk
gemm m=16 n=8192 k=8192 dtype=bf16 b=nk
gemm m=16 n=6144 k=4096 dtype=bf16 b=nk
gemm m=16 n=28672 k=4096 dtype=bf16 b=nk
S
run() { echo "== $*"; $T bench "$@" --max-seconds 0.2 2>&1 | grep -E "^ *gemm|cuda|cublas" | awk '{print "   " $0}' | cut -c1-200; }
run --suite "$OUT/m128.txt" --impl cublaslt
for s in 1 2 4; do run --suite "$OUT/m128.txt" --impl cuda.wgmma --config splits=$s,tile_n=128; done
run --suite "$OUT/skinny.txt" --impl cublaslt
for kp in 0 1; do for s in 1 2; do run --suite "$OUT/skinny.txt" --impl cuda.wgmma.skinny --config splits=$s,k_panels=$kp; done; done
prof() {  # name kernel-regex descriptor impl [config]
  local name=$1 k=$2 p=$3 impl=$4; shift 4
  timeout 150 ncu --section SpeedOfLight --section WarpStateStats --section MemoryWorkloadAnalysis \
    --section LaunchStats --section Occupancy -k "regex:$k" -c 1 $T bench "$p" --impl "$impl" "$@" \
    --max-seconds 0.05 >"$OUT/ncu-$name.txt" 2>&1
  echo "== ncu $name"; grep -E "Duration|DRAM Throughput|Memory Throughput|L2 Cache Throughput|Compute \(SM\) Throughput|L1/TEX Hit|L2 Hit|Warp Cycles Per Issued|Registers Per" "$OUT/ncu-$name.txt" | head -12
}
prof m128 wgmma_gemm_kernel "gemm m=128 n=4096 k=4096 dtype=bf16 b=nk" cuda.wgmma
prof m128s4 wgmma_gemm_kernel "gemm m=128 n=4096 k=4096 dtype=bf16 b=nk" cuda.wgmma --config splits=4,tile_n=128
prof skinny skinny_gemm_kernel "gemm m=16 n=8192 k=8192 dtype=bf16 b=nk" cuda.wgmma.skinny
prof cublas-skinny "gemv|gemm|sm90|Kernel" "gemm m=16 n=8192 k=8192 dtype=bf16 b=nk" cublaslt
prof cublas-m128 "gemv|gemm|sm90|Kernel" "gemm m=128 n=4096 k=4096 dtype=bf16 b=nk" cublaslt
prof fp8km fp8_gemm_kernel "gemm m=4096 n=4096 k=14336 dtype=e4m3 scale=block scale_layout=km b=nk" cuda.wgmma.fp8
prof fp8pt fp8_gemm_kernel "gemm m=4096 n=4096 k=14336 dtype=e4m3 b=nk" cuda.wgmma.fp8
