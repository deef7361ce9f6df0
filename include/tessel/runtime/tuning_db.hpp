// The tuning database: the best measured config per (device, implementation, problem), kept as JSON.
#pragma once

#include <string>
#include <vector>

#include "tessel/core/status.hpp"
#include "tessel/runtime/op.hpp"

namespace tessel {

// One tuned result. `device` is tuning_device()'s name, `problem` the canonical descriptor.
struct TunedEntry {
  std::string device, impl, problem;
  Config config;          // every tunable of the winner, so a changed default does not change its meaning
  double tuned_s = 0;     // its measured median
  double default_s = 0;   // the default config's measured median in the same run; 0 when it failed
  std::string commit, date;
};

class TuningDb {
 public:
  // Reads `path`. A file that does not exist is an empty database (nothing tuned yet); one that cannot
  // be read or does not parse is an error naming the file: a tuned config is never silently dropped.
  static Result<TuningDb> load(const std::string& path);
  // Parses the JSON text; `source` names it in errors.
  static Result<TuningDb> from_json(const std::string& text, const std::string& source);
  std::string to_json() const;
  // Writes atomically (a temporary file and a rename), creating the directory.
  Status save(const std::string& path) const;

  const TunedEntry* find(const std::string& device, const std::string& impl, const std::string& problem) const;
  // Adds `e`, replacing an entry with the same key.
  void put(TunedEntry e);
  const std::vector<TunedEntry>& entries() const { return entries_; }

 private:
  std::vector<TunedEntry> entries_;
};

// Where the database lives: $TESSEL_TUNE_DB, else tune.json in the cache directory next to the probe's
// (cache_directory()); empty when neither can be determined.
std::string default_tuning_db_path();

// The name tuned configs are keyed by: the GPU's name for CUDA (from its backend), and for the CPU its
// model with the thread count the run uses (`threads`, 0 = all usable), since the best blocking
// depends on how many threads share the caches.
std::string tuning_device(Device d, int threads);

// The config an implementation runs `p` with when none is pinned: the database's entry for this
// device, implementation and problem, if it still passes check_config.
struct TunedChoice {
  bool found = false;   // an entry applies; `config` is its config
  Config config;
  std::string warning;  // set when an entry exists but no longer checks (it is then skipped)
};
TunedChoice tuned_config(const TuningDb& db, const Implementation& impl, const Problem& p, const std::string& canonical,
                         int threads);

}  // namespace tessel
