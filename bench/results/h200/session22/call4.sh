#!/usr/bin/env bash
# Session 22, device call 4 (issue 4): the one-lane row accumulators without the vector partial
# fields (SumAcc's part and count, include/tessel/fuse/ops.hpp), which every cross-thread merge had
# been shuffling: rmsnorm's shuffles per thread and row 40 -> 20 in the PTX, rmsnorm_quant's 60 -> 40.
# old = the build before (call 3's binary; its default path is HEAD c202cbb's), new = this change.
# 1. verify new on odd shapes of every reducing op; 2. the suite's reducing lines, 3 interleaved rounds;
# 3. SASS of rmsnorm_quant's 8192-column kernel (cubins built here), to count what each thread issues.
set -uo pipefail
mkdir -p .devbin-old && tar xzf .devbinz/old.tgz -C .devbin-old && tar xzf .devbinz/b.tgz
export TESSEL_CACHE_DIR=$OUT TESSEL_COMMIT=${TESSEL_COMMIT:-session22-call4}
export LD_LIBRARY_PATH=$PWD/.devbin
T=.devbin/tessel
D=bench/results/h200/session22
timeout 120 $T verify "rmsnorm rows=7 cols=1000 dtype=bf16" "rmsnorm rows=3 cols=7 dtype=bf16" "rmsnorm rows=1 cols=1 dtype=f32" \
  "rmsnorm rows=33 cols=8192 dtype=f32" "rmsnorm_quant rows=5 cols=4104 dtype=bf16" "rmsnorm_quant rows=4 cols=999 dtype=f32" \
  "rmsnorm_quant rows=9 cols=1000 dtype=bf16 quant=i8" "rmsnorm_residual rows=6 cols=2056 dtype=bf16" \
  "layernorm rows=11 cols=1000 dtype=bf16" "layernorm rows=2 cols=33 dtype=f32" "softmax rows=5 cols=16384 dtype=bf16" \
  "softmax rows=3 cols=70001 dtype=f32" "swiglu rows=7 cols=1000 dtype=bf16 quant=e4m3" "rmsnorm rows=1 cols=16384 dtype=bf16" \
  "eltwise rows=5 cols=300 dtype=bf16 chain=silu_mul" --impl cuda.fused 2>&1 | grep -E "FAILED|ERROR|rror|verify:" | cut -c1-120
OUT=$OUT/ab timeout 300 scripts/gpu-ab $D/reduce-lines.txt old=.devbin-old/.devbin/tessel new=$T --rounds 3 --max-seconds 0.2 2>&1 | tail -21
for v in old new; do
  cuobjdump -sass $D/rq-$v.cubin 2>/dev/null | awk '/Function : .*stash_kernelILi256ELi4ENS0_4DVec.*4bf16.*4e4m3/{f=1;next} /Function :/{f=0} f' \
    | grep -oE "^ +/\*[0-9a-f]+\*/ +[A-Z][A-Z0-9.]*" | awk '{print $2}' | sed 's/\..*//' | sort | uniq -c | sort -rn | head -14 >$OUT/sass-$v.txt
  echo "$v: $(awk '{s+=$1} END {print s}' $OUT/sass-$v.txt) SASS instructions in the top kinds"; cat $OUT/sass-$v.txt | tr '\n' ' '; echo
done
cd "$OUT" && tar czf /tmp/all.tgz . && find . -mindepth 1 -delete && mv /tmp/all.tgz .
