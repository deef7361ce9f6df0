// `tessel tune`: ranks each implementation's configs by its cost model, measures the first few with the
// bench harness, and records the fastest in the tuning database.
#pragma once

#include <string>
#include <vector>

#include "tessel/runtime/registry.hpp"

namespace CLI {
class App;
}

namespace tessel::cli {

struct TuneCmdOptions {
  std::vector<std::string> descriptors;
  std::string suite;
  std::vector<std::string> impls;  // required: names or prefix* patterns
  int budget = 8;                  // configs measured per implementation and problem, besides the default
  std::string db;                  // empty: default_tuning_db_path()
  int threads = 0;
  double max_seconds = 1.0;        // wall time per config
  std::string json;
};

// Adds the subcommand to `app`; main() selects the problems and implementations (as for bench) and
// runs run_tune_command with them.
CLI::App* add_tune_command(CLI::App& app, TuneCmdOptions& opt);

// One problem and the selected implementations of its op.
struct TuneJob {
  Problem problem;
  std::vector<const Implementation*> impls;
};

// Exit codes as for every tessel command: 0 done, 1 a config FAILED its checks (it is never chosen)
// or no config passed, 2 bad input (budget, an unreadable or malformed database).
int run_tune_command(const Registry& reg, const TuneCmdOptions& opt, const std::vector<TuneJob>& jobs,
                     const std::string& command);

}  // namespace tessel::cli
