// Quantizing f32 weights: the error each format costs on Gaussian weights, exactness on
// representable ones, rejection of non-finite input, and the packed-weight file.
#include "tessel/quant/quantize.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>

#include "tessel/quant/container.hpp"

namespace tessel::quant {
namespace {

Format fmt(const char* scheme, int bits = 0, int64_t group = -1, DType sdt = DType::f16) {
  auto f = make_format(scheme, bits, group, sdt);
  EXPECT_TRUE(f.ok()) << f.status().message();
  return *f;
}

std::vector<float> gaussian(int64_t count, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> nd(0.0f, 0.02f);
  std::vector<float> w(static_cast<size_t>(count));
  for (auto& x : w) x = nd(rng);
  return w;
}

// SQNR floors on Gaussian weights: b-bit uniform quantization of a Gaussian gives roughly
// 6.02 b - 7 dB at its MSE-optimal clip (the best ternary quantizer: 7.3 dB); these leave room for
// group scales in f16.
struct Case {
  Format f;
  double min_sqnr_db;
};

TEST(Quantize, ErrorOnGaussianWeightsIsWhatTheBitsBuy) {
  const int64_t n = 70, k = 300;
  const auto w = gaussian(n * k, 1);
  const std::vector<Case> cases = {
      {fmt("int", 1, 128), 4.0},   {fmt("int", 2, 128), 7.5},  {fmt("int", 3, 128), 13.5},
      {fmt("int", 4, 128), 19.0},  {fmt("int", 4, 32), 20.0},  {fmt("int", 5, 64), 25.0},
      {fmt("int", 8, 0), 40.0},    {fmt("uint", 2, 64), 8.0},  {fmt("uint", 4, 128), 19.0},
      {fmt("uint", 6, 32), 32.0},  {fmt("ternary", 0, 64), 7.0}, {fmt("mxfp4"), 15.0},
      {fmt("nvfp4"), 17.0},        {fmt("mxint8"), 36.0},     {fmt("ternary5", 0, 64), 7.0},
  };
  for (const Case& c : cases) {
    QuantReport rep;
    auto m = quantize(c.f, w.data(), n, k, &rep);
    ASSERT_TRUE(m.ok()) << m.status().message();
    EXPECT_GE(rep.sqnr_db, c.min_sqnr_db) << c.f.name();
    EXPECT_LT(rep.sqnr_db, 80) << c.f.name();
    // The report is what dequantize() gives back.
    const auto dq = dequantize(*m);
    const QuantReport again = measure_error(w.data(), dq.data(), n * k);
    EXPECT_DOUBLE_EQ(again.rmse, rep.rmse) << c.f.name();
    EXPECT_NEAR(rep.sqnr_db, -20 * std::log10(rep.rel_l2), 1e-9);
    EXPECT_NEAR(rep.bits_per_weight, m->bits_per_weight(), 1e-12);
    std::printf("%-14s %6.2f dB  %.3f bits/weight\n", c.f.name().c_str(), rep.sqnr_db, rep.bits_per_weight);
  }
}

TEST(Quantize, MoreBitsNeverCostMoreError) {
  const auto w = gaussian(64 * 256, 2);
  double prev = -1;
  for (int b = 1; b <= 8; ++b) {
    QuantReport rep;
    ASSERT_TRUE(quantize(fmt("int", b, 64), w.data(), 64, 256, &rep).ok());
    EXPECT_GT(rep.sqnr_db, prev) << b;
    prev = rep.sqnr_db;
  }
}

TEST(Quantize, RepresentableWeightsAreExact) {
  std::mt19937 rng(3);
  const int64_t n = 65, k = 96;
  {  // int4 codes times a power-of-two scale per group, the full code range in every group.
    std::vector<float> w(static_cast<size_t>(n * k));
    for (int64_t i = 0; i < n * k; ++i) w[size_t(i)] = std::ldexp(float(int(rng() % 16) - 8), -3 - int(i / k % 3));
    for (int64_t r = 0; r < n; ++r) {
      w[size_t(r * k)] = -8.0f * std::ldexp(1.0f, -3 - int(r % 3));
      w[size_t(r * k + 1)] = 7.0f * std::ldexp(1.0f, -3 - int(r % 3));
    }
    QuantReport rep;
    ASSERT_TRUE(quantize(fmt("int", 4, 0), w.data(), n, k, &rep).ok());
    EXPECT_EQ(rep.max_abs_error, 0.0);
    EXPECT_TRUE(std::isinf(rep.sqnr_db));
  }
  {  // mxfp4: e2m1 values times 2^e, each block holding a 6.
    std::vector<float> w(static_cast<size_t>(n * k));
    for (int64_t i = 0; i < n * k; ++i)
      w[size_t(i)] = float(std::ldexp(e2m1_to_double(uint8_t(rng() % 16)), int(i / 32 % 5) - 2));
    for (int64_t i = 0; i < n * k; i += 32) w[size_t(i)] = float(std::ldexp(6.0, int(i / 32 % 5) - 2));
    QuantReport rep;
    ASSERT_TRUE(quantize(fmt("mxfp4"), w.data(), n, k, &rep).ok());
    EXPECT_EQ(rep.max_abs_error, 0.0);
  }
  {  // ternary: {-s, 0, s} per group.
    std::vector<float> w(static_cast<size_t>(n * k));
    for (auto& x : w) x = 0.25f * float(int(rng() % 3) - 1);
    QuantReport rep;
    ASSERT_TRUE(quantize(fmt("ternary", 0, 32), w.data(), n, k, &rep).ok());
    EXPECT_EQ(rep.max_abs_error, 0.0);
    // ternary5 stores the same codes and scales in fewer bytes: the same values come back.
    QuantReport rep5;
    auto m5 = quantize(fmt("ternary5", 0, 32), w.data(), n, k, &rep5);
    ASSERT_TRUE(m5.ok());
    EXPECT_EQ(rep5.max_abs_error, 0.0);
    EXPECT_LT(rep5.bits_per_weight, rep.bits_per_weight);
  }
  {  // all zeros in every format
    std::vector<float> w(size_t(n * k), 0.0f);
    for (const char* s : {"int", "uint", "ternary", "ternary5", "mxfp4", "mxint8", "nvfp4"}) {
      QuantReport rep;
      ASSERT_TRUE(quantize(fmt(s), w.data(), n, k, &rep).ok()) << s;
      EXPECT_EQ(rep.max_abs_error, 0.0) << s;
    }
  }
}

TEST(Quantize, RejectsNonFiniteWithItsPosition) {
  std::vector<float> w(64 * 40, 1.0f);
  w[size_t(3 * 40 + 7)] = NAN;
  auto m = quantize(fmt("int"), w.data(), 64, 40);
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("row 3, column 7"), std::string::npos) << m.status().message();
  EXPECT_FALSE(quantize(fmt("int"), w.data(), 0, 40).ok());
}

// ---- The packed-weight file ----------------------------------------------------------------------------

std::string tmp(const std::string& name) { return (std::filesystem::temp_directory_path() / name).string(); }

TEST(Container, RoundTripsEveryFormat) {
  const auto w = gaussian(70 * 101, 4);
  for (const Format& f : {fmt("int", 3, 32), fmt("uint", 4, 64, DType::bf16), fmt("ternary", 0, 0, DType::f32), fmt("mxfp4"),
                          fmt("mxint8"), fmt("nvfp4"), fmt("ternary5", 0, 96)}) {
    QuantReport rep;
    auto m = quantize(f, w.data(), 70, 101, &rep);
    ASSERT_TRUE(m.ok());
    const std::string path = tmp("tessel_container_test.tq");
    ASSERT_TRUE(write_packed(path, *m, &rep).ok());
    auto back = read_packed(path);
    ASSERT_TRUE(back.ok()) << back.status().message();
    EXPECT_EQ(back->fmt.name(), f.name());
    EXPECT_EQ(back->fmt.scale_dtype, f.scale_dtype);
    EXPECT_EQ(back->n, 70);
    EXPECT_EQ(back->k, 101);
    EXPECT_EQ(back->weights, m->weights);
    EXPECT_EQ(back->scales, m->scales);
    EXPECT_EQ(back->zeros, m->zeros);
    EXPECT_EQ(back->global_scale, m->global_scale);
    std::filesystem::remove(path);
  }
}

TEST(Container, RejectsDamagedFilesWithAReason) {
  const auto w = gaussian(64 * 64, 5);
  auto m = quantize(fmt("int", 2, 32), w.data(), 64, 64);
  ASSERT_TRUE(m.ok());
  const std::string path = tmp("tessel_container_damaged.tq");
  ASSERT_TRUE(write_packed(path, *m).ok());
  std::string good;
  {
    std::ifstream f(path, std::ios::binary);
    good.assign(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
  }
  auto with = [&](const std::string& bytes) {
    std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
    return read_packed(path);
  };
  struct Damage {
    std::string bytes;
    const char* expect;
  };
  std::string bad_magic = good, bad_version = good, bad_json = good, bad_layout = good;
  bad_magic[0] = 'X';
  bad_version[8] = 9;
  bad_json[20] = '}';
  const auto pos = bad_layout.find("\"layout_version\":1");
  ASSERT_NE(pos, std::string::npos);
  bad_layout[pos + 17] = '7';
  for (const Damage& d : {Damage{bad_magic, "magic"}, Damage{bad_version, "container version"},
                          Damage{good.substr(0, good.size() - 10), "outside the file"}, Damage{good.substr(0, 12), "magic"},
                          Damage{bad_json, "header"}, Damage{bad_layout, "layout version"}, Damage{"", "magic"}}) {
    auto r = with(d.bytes);
    ASSERT_FALSE(r.ok()) << d.expect;
    EXPECT_NE(r.status().message().find(d.expect), std::string::npos) << r.status().message();
    EXPECT_EQ(r.status().message().find('\n'), std::string::npos);
  }
  EXPECT_EQ(read_packed(tmp("tessel_no_such_file.tq")).status().code(), StatusCode::io_error);
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace tessel::quant
