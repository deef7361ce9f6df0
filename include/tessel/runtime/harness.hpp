// The harness: verify (is it right?) and bench (how fast, against what ceiling?), owning all memory.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "tessel/runtime/op.hpp"
#include "tessel/runtime/probe.hpp"

namespace tessel {

class TuningDb;

// The fixed vocabulary of outcomes. Any FAILED makes the CLI exit non-zero.
enum class Verdict { passed, failed, skipped, unsupported };
std::string_view verdict_name(Verdict v);

// Why a check failed; tests assert on these.
enum class FailureKind {
  none,
  run_error,         // the implementation returned an error status
  unwritten_output,  // an output element still holds the NaN poison
  out_of_bounds,     // a guard region around a buffer changed
  modified_input,    // an input differed after the call
  stale_result,      // the output matches the previous inputs, not these
  wrong_values,      // outside the tolerance (includes lost precision and sign bugs)
  nondeterministic,  // two runs on the same inputs differ bitwise
};
std::string_view failure_name(FailureKind k);

// Value distributions for inputs. Never all zeros.
enum class Distribution { normal, uniform, heavy_tailed, small_int };
std::string_view distribution_name(Distribution d);
inline constexpr Distribution kAllDistributions[] = {Distribution::normal, Distribution::uniform,
                                                     Distribution::heavy_tailed, Distribution::small_int};

struct VerifyOptions {
  uint64_t seed = 1;
  // Above this many reference multiply-adds, verify checks a sample of rows (first, last, random)
  // instead of all; unwritten outputs are still detected over the whole output.
  double max_reference_flops = 4e9;
  int threads = 0;
  Config config;  // tunables for the implementation (check_config); empty: the tuned config or the defaults
  // With no `config`, the implementation runs the database's tuned config for this device and problem
  // when it still checks (tuned_config in tuning_db.hpp); nullptr: its defaults.
  const TuningDb* tuning = nullptr;
};

struct VerifyResult {
  Verdict verdict = Verdict::passed;
  FailureKind failure = FailureKind::none;
  std::string reason;       // one line; empty when passed
  double worst_rel_l2 = 0;  // over all trials
  double tolerance_rel_l2 = 0;
  int trials = 0;           // candidate runs checked
  int64_t rows_checked = 0, rows_total = 0;
  Config config;        // the config that ran: the pinned one, the tuned one, or empty (the defaults)
  bool tuned = false;   // `config` came from the tuning database
  std::string warning;  // a tuned entry that no longer checks and was skipped
};

// Runs `impl` on `p` with fresh inputs from every distribution (two input sets each, the candidate
// before and after the reference), guards, poison, input checks and a determinism check.
VerifyResult verify(const OpSpec& spec, const Implementation& impl, const Problem& p,
                    const VerifyOptions& opt = {});

struct BenchOptions {
  double warmup_seconds = 0.02;
  double min_seconds = 0.2;   // timed work per implementation before stopping may be considered
  double max_seconds = 3.0;   // wall time per implementation (including checks) before stopping
  int min_reps = 5;
  int max_reps = 100;
  double target_rel_iqr = 0.03;  // stop early once IQR/median falls under this (after min_reps)
  int check_rows = 2;            // output rows compared after every timed call
  uint64_t seed = 1000;
  std::string baseline;          // implementation name; empty: the best baseline on the device
  int threads = 0;
  // Tunables, given to every implementation that takes them (check_config); the others, such as
  // the baselines, run their defaults. With no config, each implementation runs its tuned config
  // from `tuning` (as in VerifyOptions) or its defaults.
  Config config;
  const TuningDb* tuning = nullptr;
  std::function<void(const std::string&)> progress;  // called with short progress lines
};

struct BenchRow {
  std::string problem;  // canonical descriptor
  std::string impl;
  Device device = Device::cpu;
  bool is_baseline = false;
  Verdict verdict = Verdict::passed;
  std::string reason;
  double median_s = 0, iqr_s = 0;
  int n = 0;
  double tflops = 0, gbps = 0;
  double pct_roofline = 0;  // of the binding ceiling: max(compute share, bandwidth share)
  std::string bound;        // "compute" or "memory"
  bool suspect = false;     // faster than the probed ceiling allows
  double speedup = 0;       // baseline median / this median; 0 when there is no baseline
  std::string baseline;
  std::string config;       // the config that ran (format_config); empty: the defaults
  bool tuned = false;       // that config came from the tuning database
  std::string warning;      // a tuned entry that no longer checks and was skipped
  std::string repro;        // a tessel command line that reruns this row
};

// Benches every implementation in `impls` that supports `p`, interleaved per device, each timed call
// checked against the reference for its input set. Unsupported ones get an UNSUPPORTED row.
std::vector<BenchRow> bench(const OpSpec& spec, const std::vector<const Implementation*>& impls,
                            const Problem& p, const MachineProbe* machine, const BenchOptions& opt);

// Benches one implementation under each of `configs` (each checked with check_config by the caller),
// interleaved and checked exactly as bench() interleaves implementations: the tuner's measurement.
// One row per config, in order; opt.config, opt.tuning and opt.baseline are not used (speedup stays 0).
std::vector<BenchRow> bench_configs(const OpSpec& spec, const Implementation& impl, const Problem& p,
                                    const std::vector<Config>& configs, const MachineProbe* machine,
                                    const BenchOptions& opt);

}  // namespace tessel
