#!/usr/bin/env bash
# Session 8, device call 2 (issue 4). Binaries: old = main (08c742b); r1 = call 1's (rope's load_rows
# unrolled); new = r1 + NeoX trig split between partner threads and recomputed only when a token
# changes, map chains in column tiles of 32/64 threads, and the per-row double division / sqrt /
# reciprocal from MUFU approximations plus Newton steps (ops.hpp div_d, rsqrt_d).
set -uo pipefail
tar xzf .devbinz/b.tgz && export LD_LIBRARY_PATH=$PWD/.devbin TESSEL_CACHE_DIR=$OUT
S=bench/results/h200/session8
ab() { local name=$1 t=$2; shift 2; OUT=$OUT/$name timeout $t scripts/gpu-ab "$@" --rounds 2 --max-seconds 0.15 >"$OUT/$name.log" 2>&1; grep -A40 "^problem" "$OUT/$name.log"; }
ab rope 80 $S/rope-ab2.txt old=.devbin-old/tessel r1=.devbin-r1/tessel new=.devbin/tessel
ab maps 130 $S/maps-ab.txt old=.devbin-old/tessel new=.devbin/tessel "s4=.devbin/tessel:--config slots=4"
ab reduce 170 $S/reduce-ab.txt old=.devbin-old/tessel new=.devbin/tessel
SKIP_BENCH=1 OUT=$OUT/fusion timeout 100 scripts/gpu-fusion .devbin >"$OUT/gpu-fusion.log" 2>&1; echo "gpu-fusion rc=$?"
grep -E "PASSED rows|ERROR SUMMARY|step failed|==== done|PASSED .*tests|FAILED" "$OUT/gpu-fusion.log" | head -20
mkdir -p $OUT/ncu; timeout 60 ncu --section SpeedOfLight --section WarpStateStats --section InstructionStats --section SourceCounters \
  -k regex:stash_kernel -c 1 .devbin/tessel bench "rmsnorm_quant rows=16384 cols=8192 dtype=bf16" --impl cuda.fused --max-seconds 0.05 >"$OUT/ncu/rmsnorm-quant.txt" 2>&1
grep -E "Duration|DRAM Throughput|Compute \(SM\)|Issue Slots|Executed Ipc" "$OUT/ncu/rmsnorm-quant.txt"
cd "$OUT" && tar czf /tmp/all.tgz . && find . -mindepth 1 -delete && mv /tmp/all.tgz .
