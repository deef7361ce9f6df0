#!/bin/bash
# Session 21, calls 4 and 5 (5 adds L2 promotion and taller boxes): read-patterns.cu (reading a bf16 weight linearly, by TMA tiles as the skinny GEMM does, by 1D bulk rows).
nvidia-smi --query-gpu=name,clocks.sm,clocks.mem --format=csv
.devbin-exp/read-patterns | tee $OUT/read-patterns-2.txt
