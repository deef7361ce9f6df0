// `tessel tune` end to end, and the tuned configs bench and verify then run: what the database says,
// what --config and --untuned override, and one-line errors for bad input.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sys/wait.h>

#include "tessel/runtime/registry.hpp"
#include "tessel/runtime/tuning_db.hpp"
#include "../cli_run.hpp"

namespace {

namespace fs = std::filesystem;

using Run = tessel::test::CliRun;

Run tessel(const std::string& args) { return tessel::test::run_cli(args, "tessel-tune-cli-test-cache"); }

std::string temp(const std::string& name) {
  const fs::path p = fs::temp_directory_path() / name;
  fs::remove(p);
  return p.string();
}

constexpr const char* kProblem = "\"gemm m=8 n=16 k=16\"";
constexpr const char* kFast = " --max-seconds 0.05";

TEST(TuneCli, MeasuresTheBudgetAndRecordsTheBest) {
  const std::string db = temp("tessel_tune_cli_db.json"), json = temp("tessel_tune_cli.json");
  auto r = tessel(std::string("tune ") + kProblem + " --impl cpu.simd --budget 2 --db " + db + " --json " + json + kFast);
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("(default)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("1 recorded in " + db), std::string::npos) << r.out;
  std::ifstream f(json);
  const auto j = nlohmann::json::parse(f);
  EXPECT_EQ(j["kind"], "tune");
  std::vector<int> measured;
  int best = 0;
  for (const auto& row : j["rows"]) {
    if (row["measured"].get<bool>()) measured.push_back(row["rank"].get<int>());
    best += row["best"].get<bool>();
  }
  // cpu.simd's model is the roofline (every config ties): the default ranks first, and the budget of 2
  // measures the first two ranks only.
  EXPECT_EQ(measured, (std::vector<int>{0, 1}));
  EXPECT_EQ(best, 1);
  EXPECT_TRUE(j["rows"][0]["default"].get<bool>());
  auto stored = tessel::TuningDb::load(db);
  ASSERT_TRUE(stored.ok()) << stored.status().message();
  ASSERT_EQ(stored->entries().size(), 1u);
  EXPECT_EQ(stored->entries()[0].impl, "cpu.simd");
  EXPECT_EQ(stored->entries()[0].problem, "gemm m=8 n=16 k=16");
  EXPECT_EQ(stored->entries()[0].config.size(), 4u) << "every tunable is recorded";

  // Budget 1: the model's first pick only, which here is the default itself.
  r = tessel(std::string("tune ") + kProblem + " --impl cpu.simd --budget 1 --db " + db + " --json " + json + kFast);
  ASSERT_EQ(r.code, 0) << r.out;
  std::ifstream f1(json);
  const auto j1 = nlohmann::json::parse(f1);
  int n_measured = 0;
  for (const auto& row : j1["rows"]) n_measured += row["measured"].get<bool>();
  EXPECT_EQ(n_measured, 1);
}

TEST(TuneCli, BenchAndVerifyRunTheTunedConfigUnlessOverridden) {
  const std::string db = temp("tessel_tune_cli_bench_db.json");
  tessel::TuningDb d;
  d.put({tessel::tuning_device(tessel::Device::cpu, 0), "cpu.simd", "gemm m=8 n=16 k=16", {{"mc", 84}}, 1e-6, 2e-6,
         "test", "2026-11-29T00:00:00Z"});
  ASSERT_TRUE(d.save(db).ok());

  auto r = tessel(std::string("bench ") + kProblem + " --impl cpu.simd --db " + db + kFast);
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("config: cpu.simd ran mc=84 (tuned)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("--config mc=84"), std::string::npos) << "the repro pins what ran: " << r.out;

  r = tessel(std::string("bench ") + kProblem + " --impl cpu.simd --config mc=112 --db " + db + kFast);
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("config: cpu.simd ran mc=112\n"), std::string::npos) << "--config wins: " << r.out;

  r = tessel(std::string("bench ") + kProblem + " --impl cpu.simd --untuned --db " + db + kFast);
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(r.out.find("config:"), std::string::npos) << r.out;

  r = tessel(std::string("verify ") + kProblem + " --impl cpu.simd --db " + db);
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("(tuned: mc=84)"), std::string::npos) << r.out;

  // Another problem misses: it runs its defaults.
  r = tessel("bench \"gemm m=8 n=16 k=17\" --impl cpu.simd --db " + db + kFast);
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(r.out.find("config:"), std::string::npos) << r.out;

  // A stale entry (85 is not one of mc's values) is skipped with a warning, not an error.
  d.put({tessel::tuning_device(tessel::Device::cpu, 0), "cpu.simd", "gemm m=8 n=16 k=16", {{"mc", 85}}, 1e-6, 2e-6,
         "test", "2026-11-29T00:00:00Z"});
  ASSERT_TRUE(d.save(db).ok());
  r = tessel(std::string("bench ") + kProblem + " --impl cpu.simd --db " + db + kFast);
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("warning: cpu.simd: tuned config mc=85"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("config: cpu.simd ran"), std::string::npos) << r.out;
}

TEST(TuneCli, BadInputIsOneLineAndExitTwo) {
  const std::string bad_db = temp("tessel_tune_cli_bad_db.json");
  std::ofstream(bad_db) << "{\"version\": 1, \"entries\": [";
  const std::string db = " --db " + temp("tessel_tune_cli_unused_db.json");
  for (const std::string& args :
       {std::string("tune ") + kProblem + " --impl no_such_impl" + db, std::string("tune \"gemm m=x\" --impl cpu.simd") + db,
        std::string("tune ") + kProblem + " --impl cpu.simd --budget 0" + db,
        std::string("tune ") + kProblem + " --impl cpu.simd --budget x" + db, std::string("tune ") + kProblem + db,
        std::string("tune --impl cpu.simd") + db, std::string("tune ") + kProblem + " --impl cpu.simd --db " + bad_db,
        std::string("bench ") + kProblem + " --impl cpu.simd --db " + bad_db,
        std::string("verify ") + kProblem + " --impl cpu.simd --db " + bad_db}) {
    auto r = tessel(args);
    EXPECT_EQ(r.code, 2) << args << "\n" << r.out;
    EXPECT_NE(r.out.find("tessel"), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find("internal error"), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find("PASSED"), std::string::npos) << args << ": nothing runs\n" << r.out;
    if (args.find(bad_db) != std::string::npos) {
      EXPECT_NE(r.out.find(bad_db), std::string::npos) << "the error names the file: " << r.out;
    }
  }
}

}  // namespace
