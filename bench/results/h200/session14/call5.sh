#!/usr/bin/env bash
# Session 14, device call 5, main 19adb82's binaries: `tessel tune` on the rows still below or near 0.95x of
# cuBLASLt (m <= 16) and on m = 128, n = 6144: does any config of cuda.wgmma or cuda.wgmma.skinny beat the
# defaults? The tuner ranks every config by the cost model and measures the first 8 plus the default with
# bench's checked timing.
set -uo pipefail
tar xzf .devbinz/b.tgz && export LD_LIBRARY_PATH=$PWD/.devbin TESSEL_CACHE_DIR=$OUT
T=.devbin/tessel
timeout 420 $T tune "gemm m=16 n=6144 k=4096 dtype=bf16 b=nk" "gemm m=16 n=28672 k=4096 dtype=bf16 b=nk" \
  "gemm m=8 n=8192 k=8192 dtype=bf16 b=nk" "gemm m=16 n=8192 k=8192 dtype=bf16 b=nk" "gemm m=128 n=6144 k=4096 dtype=bf16 b=nk" \
  --impl 'cuda.wgmma,cuda.wgmma.skinny' --budget 8 --max-seconds 0.2 --json "$OUT/tune.json" --db "$OUT/tune-db.json" \
  >"$OUT/tune.log" 2>&1; echo "tune rc=$?"
tail -40 "$OUT/tune.log" | cut -c1-200
cd "$OUT" && tar czf /tmp/all.tgz . && find . -mindepth 1 -delete && mv /tmp/all.tgz .
