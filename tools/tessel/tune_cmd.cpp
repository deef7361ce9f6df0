// `tessel tune`: the cost model's order, measured by the bench harness, the winner kept in the database.
#include "tune_cmd.hpp"

#include <CLI/CLI.hpp>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>

#include "report.hpp"
#include "tessel/runtime/probe.hpp"
#include "tessel/runtime/tuner.hpp"
#include "tessel/runtime/tuning_db.hpp"

namespace tessel::cli {
namespace {

constexpr int kFailed = 1;
constexpr int kBadInput = 2;

int bad_input(const std::string& msg) {
  std::fprintf(stderr, "tessel: tune: %s\n", msg.c_str());
  return kBadInput;
}

std::string micros(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f us", s * 1e6);
  return buf;
}

void print_result(const TuneResult& r) {
  int measured = 0;
  for (const auto& c : r.candidates) measured += c.measured;
  std::printf("  %s: %zu configs, %d measured (the model's first picks and the default; * the fastest)\n",
              r.impl.c_str(), r.candidates.size(), measured);
  size_t width = 6;
  for (const auto& c : r.candidates)
    if (c.measured) width = std::max(width, format_config(c.config).size() + (c.is_default ? 10 : 0));
  std::printf("    %-*s %12s %12s %11s\n", int(width), "config", "predicted", "measured", "vs default");
  const double default_s = r.default_index >= 0 && r.candidates[size_t(r.default_index)].row.verdict == Verdict::passed
                               ? r.candidates[size_t(r.default_index)].row.median_s
                               : 0;
  for (size_t i = 0; i < r.candidates.size(); ++i) {
    const TuneCandidate& c = r.candidates[i];
    if (!c.measured) continue;
    const std::string name = format_config(c.config) + (c.is_default ? " (default)" : "");
    const char mark = int(i) == r.best ? '*' : ' ';
    if (c.row.verdict != Verdict::passed) {
      std::printf("  %c %-*s %12s %12s  %s: %s\n", mark, int(width), name.c_str(), micros(c.predicted_s).c_str(),
                  std::string(verdict_name(c.row.verdict)).c_str(), c.row.impl.c_str(), c.row.reason.c_str());
      continue;
    }
    char vs[32] = "-";
    if (default_s > 0) std::snprintf(vs, sizeof vs, "%.2fx", default_s / c.row.median_s);
    std::printf("  %c %-*s %12s %12s %11s\n", mark, int(width), name.c_str(), micros(c.predicted_s).c_str(),
                micros(c.row.median_s).c_str(), vs);
  }
  for (const auto& c : r.candidates)
    if (c.measured && c.row.verdict == Verdict::failed) std::printf("    __REPRO: %s\n", c.row.repro.c_str());
}

nlohmann::json result_rows(const TuneResult& r) {
  nlohmann::json rows = nlohmann::json::array();
  for (size_t i = 0; i < r.candidates.size(); ++i) {
    const TuneCandidate& c = r.candidates[i];
    nlohmann::json config = nlohmann::json::object();
    for (const auto& [k, v] : c.config) config[k] = v;
    nlohmann::json row = {{"problem", r.problem},       {"impl", r.impl},          {"config", config},
                          {"default", c.is_default},    {"rank", i},               {"predicted_s", c.predicted_s},
                          {"measured", c.measured},     {"best", int(i) == r.best}};
    if (c.measured) {
      row["status"] = std::string(verdict_name(c.row.verdict));
      row["reason"] = c.row.reason;
      row["median_s"] = c.row.median_s;
      row["iqr_s"] = c.row.iqr_s;
      row["n"] = c.row.n;
      row["repro"] = c.row.repro;
    }
    rows.push_back(row);
  }
  return rows;
}

}  // namespace

CLI::App* add_tune_command(CLI::App& app, TuneCmdOptions& opt) {
  auto* t = app.add_subcommand(
      "tune",
      "search an implementation's configs: rank them all by its cost model, measure the first --budget and the\n"
      "default with bench's checked timing, and keep the fastest in the tuning database, which bench and verify\n"
      "then run when no --config is given (docs/tuning.md)");
  t->add_option("descriptors", opt.descriptors, "problem descriptors, e.g. \"gemm m=512 n=512 k=512 dtype=bf16\"");
  t->add_option("--suite", opt.suite, "batch file: a name in bench/suites (quick) or a path");
  t->add_option("--impl", opt.impls, "implementations to tune: names or prefix* patterns, comma-separated")
      ->delimiter(',')
      ->allow_extra_args(false)
      ->required();
  t->add_option("--budget", opt.budget, "configs measured per implementation and problem, in the model's order "
                                        "(the default config is always measured too)")
      ->check(CLI::PositiveNumber);
  t->add_option("--db", opt.db, "tuning database to update (default: $TESSEL_TUNE_DB, else tune.json in the probe's "
                                "cache directory, ~/.cache/tessel)");
  t->add_option("--threads", opt.threads, "CPU threads (0: all); CPU results are kept per thread count")
      ->check(CLI::NonNegativeNumber);
  t->add_option("--max-seconds", opt.max_seconds, "wall-time budget per measured config")->check(CLI::PositiveNumber);
  t->add_option("--json", opt.json, "also write every ranked config, predicted and measured, to this JSON file");
  return t;
}

int run_tune_command(const Registry& reg, const TuneCmdOptions& opt, const std::vector<TuneJob>& jobs,
                     const std::string& command) {
  if (opt.budget < 1) return bad_input("--budget must be at least 1");
  const std::string db_path = opt.db.empty() ? default_tuning_db_path() : opt.db;
  if (db_path.empty()) return bad_input("no place for the tuning database: give --db or set TESSEL_TUNE_DB");
  // Read before measuring anything: a malformed database is the user's to fix, not to overwrite.
  auto db = TuningDb::load(db_path);
  if (!db.ok()) return bad_input(db.status().message());
  auto machine = load_or_run_probe(false, false);
  if (!machine.ok())
    std::fprintf(stderr, "tessel: probe failed (%s); the cost model will only order by distance from the "
                         "defaults\n", machine.status().message().c_str());
  TuneOptions topt;
  topt.budget = opt.budget;
  topt.bench.threads = opt.threads;
  topt.bench.max_seconds = opt.max_seconds;
  topt.bench.progress = [](const std::string& s) { std::fprintf(stderr, "%s\n", s.c_str()); };
  nlohmann::json rows = nlohmann::json::array();
  int failed = 0, written = 0;
  for (const TuneJob& job : jobs) {
    const OpSpec& spec = *reg.spec(job.problem.op());
    std::printf("%s\n", spec.format(job.problem).c_str());
    for (const Implementation* impl : job.impls) {
      if (Support sup = impl->supports(job.problem); !sup.ok) {
        std::printf("  %s: UNSUPPORTED %s\n", impl->name().c_str(), sup.reason.c_str());
        continue;
      }
      if (impl->config_space(job.problem).empty()) {
        std::printf("  %s: no tunables, nothing to tune\n", impl->name().c_str());
        continue;
      }
      auto r = tune(spec, *impl, job.problem, machine.ok() ? &*machine : nullptr, topt);
      if (!r.ok()) return bad_input(r.status().message());
      print_result(*r);
      for (const auto& c : r->candidates) failed += c.measured && c.row.verdict == Verdict::failed;
      const nlohmann::json more = result_rows(*r);
      rows.insert(rows.end(), more.begin(), more.end());
      if (r->best < 0) {
        std::printf("    no config passed; nothing recorded\n");
        ++failed;
        continue;
      }
      const TuneCandidate& best = r->candidates[size_t(r->best)];
      const TuneCandidate& dflt = r->candidates[size_t(r->default_index)];
      db->put(TunedEntry{tuning_device(impl->device(), opt.threads), impl->name(), r->problem, best.config,
                         best.row.median_s, dflt.row.verdict == Verdict::passed ? dflt.row.median_s : 0,
                         source_commit(), utc_now()});
      // Saved after every result, so an interrupted run keeps what it measured.
      if (Status s = db->save(db_path); !s.ok()) return bad_input(s.message());
      ++written;
      if (r->speedup() > 0)
        std::printf("    best: %s, %.2fx the default\n", format_config(best.config).c_str(), r->speedup());
      else
        std::printf("    best: %s (the default did not pass)\n", format_config(best.config).c_str());
    }
    std::fflush(stdout);
  }
  std::printf("tune: %d recorded in %s, %d failed\n", written, db_path.c_str(), failed);
  if (!opt.json.empty()) {
    nlohmann::json j = {{"tool", "tessel"}, {"kind", "tune"},     {"command", command},
                        {"commit", source_commit()}, {"date", utc_now()}, {"database", db_path}};
    j["machine"] = machine.ok() ? nlohmann::json::parse(probe_to_json(*machine)) : nlohmann::json(nullptr);
    j["rows"] = rows;
    std::ofstream f(opt.json);
    if (!(f << j.dump(2) << "\n")) return bad_input("cannot write " + opt.json);
    std::printf("wrote %s\n", opt.json.c_str());
  }
  return failed ? kFailed : 0;
}

}  // namespace tessel::cli
