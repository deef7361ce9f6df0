#!/usr/bin/env bash
# Session 9, device call 1 (main 42dd992). Issue 3: do the skinny shapes below 0.95x gain from more, balanced
# CTAs (K splits 2 and 4: 896 / 1792 units at n = 28672 instead of 448 on 132 SMs, 3.39 waves)?
# cuBLASLt in the same rounds. Issue 4: what a near-copy (relu) reaches at 64 MiB moved against larger
# sizes, in tessel and in PyTorch (the 90% goal at 4096 x 4096).
set -uo pipefail
tar xzf .devbinz/b.tgz && export LD_LIBRARY_PATH=$PWD/.devbin TESSEL_CACHE_DIR=$OUT TESSEL_COMMIT=42dd992
S=bench/results/h200/session9
T=.devbin/tessel
$T probe --refresh 2>&1 | tail -4
OUT=$OUT/skinny timeout 200 scripts/gpu-ab $S/skinny-lines.txt auto=$T s2="$T:--config splits=2" s4="$T:--config splits=4" \
  --impl 'cuda.wgmma.skinny,cublaslt' --rounds 2 --max-seconds 0.2 >"$OUT/skinny.log" 2>&1; grep -A12 "^problem" "$OUT/skinny.log"
timeout 60 $T bench --suite $S/copy-lines.txt --impl cuda.fused --max-seconds 0.3 --json "$OUT/copy-tessel.json" >"$OUT/copy-tessel.log" 2>&1; tail -9 "$OUT/copy-tessel.log"
timeout 150 python3 scripts/torch-compare --suite $S/copy-lines.txt --json "$OUT/copy-torch.json" --impl torch.eager --max-seconds 0.3 >"$OUT/copy-torch.log" 2>&1; tail -9 "$OUT/copy-torch.log"
cd "$OUT" && tar czf /tmp/all.tgz . && find . -mindepth 1 -delete && mv /tmp/all.tgz .
