// The tessel CLI end to end: exit codes, one-line errors for bad input, and the JSON report.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sys/wait.h>
#include <thread>

#include "../cli_run.hpp"

namespace {

using Run = tessel::test::CliRun;

Run tessel(const std::string& args) { return tessel::test::run_cli(args, "tessel-cli-test-cache"); }

std::string temp_file(const std::string& name, const std::string& text) {
  auto path = std::filesystem::temp_directory_path() / name;
  std::ofstream(path) << text;
  return path.string();
}

TEST(Cli, ListShowsOpsImplsAndBackends) {
  auto r = tessel("list");
  EXPECT_EQ(r.code, 0) << r.out;
  for (const char* s : {"gemm", "rmsnorm", "softmax", "reference", "backends:", "cpu"})
    EXPECT_NE(r.out.find(s), std::string::npos) << s;
}

TEST(Cli, MalformedInputIsOneLineAndExitTwo) {
  const std::string bad_suite = temp_file("tessel_bad_suite.txt", "# ok\ngemm m=8 n=8 k=8\ngemm m=8 n=x k=8\n");
  for (const std::string& args :
       {std::string("verify \"gemm m=x n=1 k=1\""), std::string("bench \"nosuchop a=1\""), std::string("verify --bogus"),
        std::string("bench --suite no_such_suite"), "bench --suite " + bad_suite,
        std::string("verify \"gemm m=8 n=8 k=8\" --impl no_such_impl"), std::string("frobnicate")}) {
    auto r = tessel(args);
    EXPECT_EQ(r.code, 2) << args << "\n" << r.out;
    EXPECT_NE(r.out.find("tessel"), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find("internal error"), std::string::npos) << r.out;
  }
  auto r = tessel("bench --suite " + bad_suite);
  EXPECT_NE(r.out.find(":3:"), std::string::npos) << "error must name the line: " << r.out;
}

TEST(Cli, VerifyPassesAndReportsStatus) {
  auto r = tessel("verify \"gemm m=9 n=7 k=5\" \"softmax rows=3 cols=17\"");
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("PASSED"), std::string::npos);
  EXPECT_EQ(r.out.find("FAILED"), std::string::npos);
}

// --impl takes one (comma-separated) value: descriptors after it stay descriptors rather than
// being read as implementation names (which once made verify silently run every sample instead).
TEST(Cli, DescriptorsAfterImplAreDescriptors) {
  auto r = tessel("verify --impl cpu.simd \"rmsnorm rows=3 cols=7\" \"softmax rows=2 cols=5\"");
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("verify: 2 passed, 0 failed, 2 rows"), std::string::npos) << r.out;
}

TEST(Cli, ConfigIsCheckedAndReachesTheImplementation) {
  auto ok = tessel("verify \"rmsnorm_quant rows=3 cols=7\" --impl cpu.fused --config stream=1");
  EXPECT_EQ(ok.code, 0) << ok.out;
  EXPECT_NE(ok.out.find("1 passed"), std::string::npos) << ok.out;
  auto timed = tessel("bench \"rmsnorm_quant rows=3 cols=7\" --impl cpu.fused --config stream=1 --max-seconds 0.05");
  EXPECT_EQ(timed.code, 0) << timed.out;
  EXPECT_NE(timed.out.find("--config stream=1"), std::string::npos) << "the repro line keeps the config: " << timed.out;
  for (const char* bad : {"stream=5", "nosuch=1", "stream", "stream=x", "stream=1,stream=0"}) {
    auto r = tessel(std::string("verify \"rmsnorm_quant rows=3 cols=7\" --impl cpu.fused --config ") + bad);
    EXPECT_EQ(r.code, 2) << bad << "\n" << r.out;
    EXPECT_EQ(r.out.find("PASSED"), std::string::npos) << bad;
  }
  // Two tunables after a space: the second is a positional argument, and the error says what it is.
  auto spaced = tessel("verify \"rmsnorm_quant rows=3 cols=7\" --impl cpu.fused --config stream=1 stream=0");
  EXPECT_EQ(spaced.code, 2) << spaced.out;
  EXPECT_NE(spaced.out.find("comma-separated"), std::string::npos) << spaced.out;
  auto listed = tessel("verify \"rmsnorm_quant rows=3 cols=7\" --impl cpu.fused --config nosuch=1");
  EXPECT_NE(listed.out.find("it has: stream"), std::string::npos) << "the error lists the tunables: " << listed.out;
}

// A config that some selected implementations take: they run with it, the others get unsupported
// rows that say why (cpu.simd's gemm has no `stream`), in verify and in bench alike.
TEST(Cli, ConfigSkipsImplementationsWithoutTheKey) {
  for (const char* cmd : {"verify", "bench"}) {
    auto r = tessel(std::string(cmd) + " \"rmsnorm rows=3 cols=7\" \"gemm m=8 n=8 k=8\" --impl cpu.simd --config stream=1" +
                    (std::string(cmd) == "bench" ? " --max-seconds 0.05" : ""));
    EXPECT_EQ(r.code, 0) << cmd << "\n" << r.out;
    EXPECT_NE(r.out.find("PASSED"), std::string::npos) << cmd << ": rmsnorm runs with the config\n" << r.out;
    EXPECT_NE(r.out.find("UNSUPPORTED"), std::string::npos) << cmd << ": gemm is reported, not run\n" << r.out;
    EXPECT_NE(r.out.find("stream: not a tunable"), std::string::npos) << cmd << "\n" << r.out;
  }
}

TEST(Cli, BenchWritesJsonWithRooflineAndRepro) {
  const std::string suite = temp_file("tessel_small_suite.txt", "gemm m=64 n=64 k=64\nrmsnorm rows=64 cols=256\n");
  const std::string json = (std::filesystem::temp_directory_path() / "tessel_bench.json").string();
  auto r = tessel("bench --suite " + suite + " --json " + json + " --max-seconds 0.2");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("__REPRO: tessel bench"), std::string::npos) << r.out;
  std::ifstream f(json);
  auto j = nlohmann::json::parse(f);
  EXPECT_EQ(j["kind"], "bench");
  EXPECT_FALSE(j["commit"].get<std::string>().empty());
  EXPECT_FALSE(j["date"].get<std::string>().empty());
  EXPECT_TRUE(j["machine"].is_object());
  ASSERT_FALSE(j["rows"].empty());
  int passed = 0;
  for (const auto& row : j["rows"]) {
    if (row["status"] != "PASSED") continue;
    ++passed;
    EXPECT_GT(row["median_s"].get<double>(), 0);
    EXPECT_GT(row["pct_roofline"].get<double>(), 0);
    EXPECT_NE(row["repro"].get<std::string>().find("tessel bench"), std::string::npos);
  }
  EXPECT_GE(passed, 2);
}

// TESSEL_CPU_ISA holds the CPU kernels to an older SIMD target and the JSON report says which ran;
// a name it does not know is a one-line error and exit 2 before anything runs.
TEST(Cli, CpuIsaHoldsTheKernelsAndTheReportSaysSo) {
  const std::string json = (std::filesystem::temp_directory_path() / "tessel_isa.json").string();
  const std::string args = "verify \"qgemm m=1 n=130 k=333 format=ternary5 group=32\" --impl cpu.lut --json " + json;
  auto simd = [&]() {
    std::ifstream f(json);
    return nlohmann::json::parse(f)["cpu_simd"].get<std::string>();
  };
  auto r = tessel(args);
  ASSERT_EQ(r.code, 0) << r.out;
  const std::string best = simd();
  if (best == "SSE4") GTEST_SKIP() << "no AVX2 here";
  r = tessel::test::run_cli(args, "tessel-cli-test-cache", "TESSEL_CPU_ISA=avx2");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("PASSED"), std::string::npos) << r.out;
  EXPECT_EQ(simd(), "AVX2");
  {
    std::ifstream f(json);
    EXPECT_EQ(nlohmann::json::parse(f)["rows"][0]["repro"].get<std::string>().rfind("TESSEL_CPU_ISA=avx2 tessel verify", 0), 0u);
  }
  r = tessel::test::run_cli("list", "tessel-cli-test-cache", "TESSEL_CPU_ISA=avx9");
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("tessel: TESSEL_CPU_ISA: avx9: expected avx3_dl, avx3, avx2 or sse4"), std::string::npos) << r.out;
}

// --refresh-probe measures the ceilings again instead of reading the cache: the report's probe is
// newer than the cached one, and bench says which it used.
TEST(Cli, BenchRefreshProbeMeasuresAgain) {
  ASSERT_EQ(tessel("probe").code, 0);  // a cached probe exists from here on
  const std::string json = (std::filesystem::temp_directory_path() / "tessel_bench_refresh.json").string();
  auto read_probe_time = [&] {
    std::ifstream f(json);
    return nlohmann::json::parse(f)["machine"]["measured_at"].get<std::string>();
  };
  auto cached = tessel("bench \"rmsnorm rows=8 cols=64\" --max-seconds 0.05 --json " + json);
  ASSERT_EQ(cached.code, 0) << cached.out;
  EXPECT_NE(cached.out.find("(cached; --refresh-probe measures again)"), std::string::npos) << cached.out;
  const std::string before = read_probe_time();
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));  // measured_at counts seconds
  auto fresh = tessel("bench \"rmsnorm rows=8 cols=64\" --max-seconds 0.05 --refresh-probe --json " + json);
  ASSERT_EQ(fresh.code, 0) << fresh.out;
  EXPECT_NE(fresh.out.find("(measured now)"), std::string::npos) << fresh.out;
  EXPECT_GT(read_probe_time(), before);  // ISO 8601 UTC times order as strings
}

}  // namespace
