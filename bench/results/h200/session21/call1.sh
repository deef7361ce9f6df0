#!/bin/bash
# Session 21, call 1: bulk async copies against plain copies (bulk-copy.cu, built here with the nvcc line in its header).
set -x
nvidia-smi --query-gpu=name,clocks.sm,clocks.mem --format=csv
.devbin-exp/bulk-copy | tee $OUT/bulk-copy.txt
