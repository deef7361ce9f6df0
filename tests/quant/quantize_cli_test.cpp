// `tessel quantize` end to end: a raw matrix in, a packed file and an error report out; bad input
// is one line and exit code 2.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <sys/wait.h>

#include "tessel/core/dtype.hpp"
#include "tessel/quant/container.hpp"
#include "../cli_run.hpp"

namespace {

using Run = tessel::test::CliRun;

Run tessel(const std::string& args) { return tessel::test::run_cli(args); }

std::string tmp(const std::string& name) { return (std::filesystem::temp_directory_path() / name).string(); }

bool wired() {
  static const bool w = tessel("quantize --help").code == 0;
  return w;
}

std::string write_matrix(const std::string& name, int64_t rows, int64_t cols, bool bf16) {
  std::mt19937 rng(5);
  std::normal_distribution<float> nd(0.0f, 0.05f);
  const std::string path = tmp(name);
  std::ofstream f(path, std::ios::binary);
  for (int64_t i = 0; i < rows * cols; ++i) {
    const float v = nd(rng);
    if (bf16) {
      const uint16_t h = tessel::f32_to_bf16_bits(v);
      f.write(reinterpret_cast<const char*>(&h), 2);
    } else {
      f.write(reinterpret_cast<const char*>(&v), 4);
    }
  }
  return path;
}

TEST(QuantizeCli, WritesAPackedFileAndReportsTheError) {
  if (!wired()) GTEST_SKIP() << "tessel quantize is not wired into tools/tessel/main.cpp yet";
  const std::string in = write_matrix("tessel_q_in.f32", 70, 300, false), out = tmp("tessel_q_out.tq"),
                    js = tmp("tessel_q_report.json");
  auto r = tessel("quantize " + in + " -o " + out + " --rows 70 --cols 300 --format int --wbits 3 --group 64 --json " + js);
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("int3/g64"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("sqnr"), std::string::npos) << r.out;
  auto m = tessel::quant::read_packed(out);
  ASSERT_TRUE(m.ok()) << m.status().message();
  EXPECT_EQ(m->fmt.name(), "int3/g64");
  EXPECT_EQ(m->n, 70);
  std::ifstream jf(js);
  const auto j = nlohmann::json::parse(jf);
  EXPECT_GT(j.at("sqnr_db").get<double>(), 10.0);
  EXPECT_GT(j.at("bits_per_weight").get<double>(), 3.0);

  const std::string in16 = write_matrix("tessel_q_in.bf16", 33, 100, true);
  r = tessel("quantize " + in16 + " -o " + out + " --rows 33 --cols 100 --dtype bf16 --format nvfp4");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(tessel::quant::read_packed(out)->fmt.name(), "nvfp4");
}

TEST(QuantizeCli, BadInputIsOneLineAndExitTwo) {
  if (!wired()) GTEST_SKIP() << "tessel quantize is not wired into tools/tessel/main.cpp yet";
  const std::string in = write_matrix("tessel_q_bad.f32", 8, 64, false), out = tmp("tessel_q_bad.tq");
  std::vector<float> nan_row(64, 1.0f);
  nan_row[9] = NAN;
  const std::string nan_in = tmp("tessel_q_nan.f32");
  std::ofstream(nan_in, std::ios::binary).write(reinterpret_cast<const char*>(nan_row.data()), 64 * 4);
  for (const std::string& args : {
           "quantize " + tmp("no_such_matrix.f32") + " -o " + out + " --rows 8 --cols 64",
           "quantize " + in + " -o " + out + " --rows 8 --cols 65",                    // size mismatch
           "quantize " + in + " -o " + out + " --rows 8 --cols 64 --format ternary --wbits 3",
           "quantize " + in + " -o " + out + " --rows 8 --cols 64 --group 48",
           "quantize " + in + " -o " + out + " --rows 8 --cols 64 --group x",
           "quantize " + in + " -o " + out + " --rows 8 --cols 64 --format int9",
           "quantize " + in + " -o /no/such/dir/out.tq --rows 8 --cols 64",
           "quantize " + nan_in + " -o " + out + " --rows 1 --cols 64",
           "quantize " + in + " --rows 8 --cols 64",  // no output
       }) {
    auto r = tessel(args);
    EXPECT_EQ(r.code, 2) << args << "\n" << r.out;
    EXPECT_NE(r.out.find("tessel"), std::string::npos) << r.out;
    EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << "one line: " << r.out;
  }
}

}  // namespace
