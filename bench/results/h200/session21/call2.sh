#!/bin/bash
# Session 21, call 2: bulk-copy.cu again with the harness's read flush (clean L2), then the memset flush.
set -x
nvidia-smi --query-gpu=name,clocks.sm,clocks.mem --format=csv
.devbin-exp/bulk-copy | tee $OUT/bulk-copy-read-flush.txt
FLUSH=memset .devbin-exp/bulk-copy | tee $OUT/bulk-copy-memset-flush.txt
