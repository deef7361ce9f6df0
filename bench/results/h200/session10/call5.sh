#!/usr/bin/env bash
# Session 10, device call 5 (issue 3, fp8 block scales at 0.85-0.94x of cuBLASLt's per-tensor kernel): why the
# block-scaled kernel (km scales staged by TMA) runs slower than the per-tensor promoting kernel with the same
# main loop. SASS of the fp8 kernels (gemm_fp8.o compiled on the workstation, cuobjdump here) and Nsight
# Compute (speed of light, warp states, compute workload, instruction stats) of both at 4096^3.
set -uo pipefail
tar xzf .devbinz/b.tgz && export LD_LIBRARY_PATH=$PWD/.devbin TESSEL_CACHE_DIR=$OUT TESSEL_COMMIT=0aee3c0
T=.devbin/tessel
cuobjdump -sass .devbin/gemm_fp8.o >"$OUT/gemm_fp8.sass" 2>&1; echo "sass rc=$? $(wc -l <"$OUT/gemm_fp8.sass") lines"
n=0
for p in "gemm m=4096 n=4096 k=4096 dtype=e4m3 scale=tensor b=nk" "gemm m=4096 n=4096 k=4096 dtype=e4m3 scale=block scale_layout=km b=nk"; do
  n=$((n + 1))
  timeout 150 ncu --section SpeedOfLight --section WarpStateStats --section ComputeWorkloadAnalysis --section InstructionStats \
    --section SchedulerStats -k "regex:fp8_gemm_kernel" -c 1 $T bench "$p" --impl cuda.wgmma.fp8 --config accum=1 --max-seconds 0.05 \
    >"$OUT/ncu-$n.txt" 2>&1; echo "ncu $n rc=$?"
  grep -E "Duration|Compute \(SM\) Throughput|Issue Slots Busy|Executed Ipc A|Warp Cycles Per Issued|Stall|Eligible Warps|No Eligible|Executed Instructions  " "$OUT/ncu-$n.txt" | head -20
done
cd "$OUT" && tar czf /tmp/all.tgz . && find . -mindepth 1 -delete && mv /tmp/all.tgz .
