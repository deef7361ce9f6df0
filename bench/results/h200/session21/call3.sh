#!/bin/bash
# Session 21, call 3: copy-hints.cu (cache hints, unroll and chunking of a plain copy against cudaMemcpy).
nvidia-smi --query-gpu=name,clocks.sm,clocks.mem --format=csv
.devbin-exp/copy-hints | tee $OUT/copy-hints.txt
