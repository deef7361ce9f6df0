#!/bin/bash
# cpu.idot's prefill sweep (DotSpanTriple) with its int32 sums starting at -offset * qsum instead of 0,
# which drops the per-block subtraction (session 29), against the build before. OLD and NEW are `tessel`
# binaries, alternated as in fuse-next-row-prefetch-2026-12-01-session29.sh, whose loop this reuses.
# Usage: OLD=/tmp/tessel-idot-base NEW=build/cpu/tessel ROUNDS=3 bash bench/results/cpu/idot-init-offset-2026-12-01-session29.sh
set -euo pipefail
PROBLEMS="qgemm m=512 n=4096 k=4096 wbits=2 group=128
qgemm m=512 n=4096 k=4096 wbits=4 group=128
qgemm m=512 n=4096 k=4096 wbits=8 group=128
qgemm m=512 n=4096 k=14336 wbits=2 group=128
qgemm m=512 n=4096 k=4096 format=mxfp4
qgemm m=512 n=4096 k=4096 format=nvfp4
qgemm m=64 n=4096 k=4096 wbits=4 group=128" IMPL=cpu.idot exec bash "$(dirname "$0")/fuse-next-row-prefetch-2026-12-01-session29.sh"
