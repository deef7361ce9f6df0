#!/usr/bin/env bash
# Session 27 (after the CPU flush stopped dirtying the LLC, on both sides: src/runtime/cpu_backend.cpp and
# bench/engines/ggml_matmul.cpp): session 22's run of bench/suites/lowbit-vs-ggml.txt against llama.cpp's ggml,
# same 2-core Zen 5 VM, written to its own directory. Run from the repo root after `cmake --build --preset cpu`
# and `scripts/ggml-compare --build-only` (GGML_CACHE: the build's cache dir).
OUT_DIR=${OUT_DIR:-bench/results/cpu/ggml-amd-2026-12-01-session27} exec bash "$(dirname "$0")/ggml-amd-2026-11-30-session22.sh"
