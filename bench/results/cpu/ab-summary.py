#!/usr/bin/env python3
"""Summarizes an alternating old/new record ("problem | round r | OLD|NEW | time unit" lines, as the
session 29 fuse-*.sh runners print): per problem, the median time of each binary and old/new per round.
Usage: python3 bench/results/cpu/ab-summary.py bench/results/cpu/fuse-stash-256k-2026-12-01-session29.txt"""
import statistics
import sys

UNITS = {"ms": 1.0, "us": 1e-3, "s": 1e3}
rows = {}
for line in open(sys.argv[1]):
    parts = [p.strip() for p in line.split("|")]
    if line.startswith("#") or len(parts) != 4 or not parts[3]:
        continue
    problem, rnd, which, t = parts
    value, unit = t.split()[:2]
    rows.setdefault(problem, {}).setdefault(rnd, {})[which] = float(value) * UNITS[unit]
for problem, rounds in rows.items():
    pairs = [r for r in rounds.values() if "OLD" in r and "NEW" in r]
    old = statistics.median(r["OLD"] for r in pairs)
    new = statistics.median(r["NEW"] for r in pairs)
    ratios = " ".join(f"{r['OLD'] / r['NEW']:.2f}" for r in pairs)
    print(f"{problem:58s} old {old:7.3f} new {new:7.3f} ms  old/new per round {ratios}")
