// The tuner: ranks an implementation's configs by its cost model, then measures the first few with bench.
#pragma once

#include <string>
#include <vector>

#include "tessel/runtime/harness.hpp"
#include "tessel/runtime/op.hpp"
#include "tessel/runtime/probe.hpp"

namespace tessel {

struct TuneOptions {
  int budget = 8;      // configs measured, the model's first picks; the default config is measured too
  BenchOptions bench;  // how each config is timed; bench.config, bench.tuning and bench.baseline are unused
};

struct TuneCandidate {
  Config config;           // a value for every tunable
  double predicted_s = 0;  // Implementation::predict_seconds
  bool is_default = false;
  bool measured = false;
  BenchRow row;            // the bench row, when measured
};

struct TuneResult {
  std::string problem;  // canonical descriptor
  std::string impl;
  std::vector<TuneCandidate> candidates;  // every config, in the model's order
  // The fastest measured config that passed its checks, unless it does not clearly beat the default
  // (beats_default), in which case the default; -1 when none passed.
  int best = -1;
  int default_index = -1;  // the default config's place in `candidates`
  // The default's measured median over the best one's; 0 when either is missing.
  double speedup() const;
};

// Whether `candidate` is faster than the default `dflt` by more than noise: by over 1% and by over half
// of their two interquartile ranges together. Without it the tuner would record whichever of several
// equivalent configs (tunables that do not matter for this shape) the noise favoured.
bool beats_default(const BenchRow& candidate, const BenchRow& dflt);

// Every config of `impl` on `p` (the cartesian product of its tunables), in the order the tuner
// measures them: by predicted time, then by how many tunables differ from their defaults (configs the
// model cannot tell apart are tried nearest the default first), then in enumeration order. An error
// when the product is too large to enumerate.
Result<std::vector<TuneCandidate>> rank_configs(const OpSpec& spec, const Implementation& impl, const Problem& p,
                                                const Roofline& roof);

// Ranks the configs, measures the first opt.budget of them and the default through bench_configs (all
// interleaved, each timed call checked), and picks the fastest that passed and beats the default. A config that fails a check
// keeps its FAILED row and is never picked. `machine` gives the ceilings (nullptr: unknown, and every
// config predicts 0, so the order is nearest-the-default first).
Result<TuneResult> tune(const OpSpec& spec, const Implementation& impl, const Problem& p, const MachineProbe* machine,
                        const TuneOptions& opt);

}  // namespace tessel
