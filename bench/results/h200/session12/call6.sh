#!/usr/bin/env bash
# Session 12, device call 6 (issue 4): call 5's binaries (old = main 939d52a, new = the same plus rope's trig only
# where the token changes), 6 interleaved rounds on the suite's GPT-J line and four one-token controls.
set -uo pipefail
tar xzf .devbinz/b.tgz && export LD_LIBRARY_PATH=$PWD/.devbin TESSEL_CACHE_DIR=$OUT
OUT=$OUT/ab scripts/gpu-ab bench/results/h200/session12/rope2-lines.txt old=.devbin-base/tessel new=.devbin/tessel --rounds 6 --max-seconds 0.3 2>&1 | tail -7
cd "$OUT" && tar czf /tmp/all.tgz . && find . -mindepth 1 -delete && mv /tmp/all.tgz .
