// The quantization error of every format on one Gaussian matrix, printed as the table in
// docs/formats.md, with the INT-vs-FP comparisons at equal bits the docs report (MXINT8 vs MXFP8 /
// fp8 e4m3; NVFP4 vs int4 in blocks of 16 with the same e4m3 scales). Rerun:
//   build/cpu/tests/tessel_quant_tests --gtest_filter='QuantErrorReport.*'
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <random>
#include <string>

#include "tessel/core/dtype.hpp"
#include "tessel/quant/quantize.hpp"

namespace tessel::quant {
namespace {

constexpr int64_t kRows = 128, kCols = 4096;  // 512K weights: stable to ~0.05 dB, fast under ASan

std::vector<float> gaussian_matrix() {
  std::mt19937 rng(2026);
  std::normal_distribution<float> nd(0.0f, 0.02f);
  std::vector<float> w(size_t(kRows * kCols));
  for (auto& x : w) x = nd(rng);
  return w;
}

// ---- Formats tessel does not store, simulated for the comparison (dequantized values only) --------

// fp8 (e4m3 or e5m2) with one f32 scale per tensor mapping max|w| to the type's largest finite value.
std::vector<float> fp8_per_tensor(const std::vector<float>& w, DType t) {
  double amax = 0;
  for (float x : w) amax = std::max(amax, double(std::fabs(x)));
  const double s = amax / (t == DType::e4m3 ? 448.0 : 57344.0);
  std::vector<float> dq(w.size());
  for (size_t i = 0; i < w.size(); ++i) dq[i] = float(dtype_round(t, w[i] / s) * s);
  return dq;
}

// MXFP8 (OCP MX v1.0, e4m3 elements): blocks of 32 along a row, E8M0 scale 2^(floor(log2 amax) - 8),
// elements rounded to nearest even and saturated to +-448.
std::vector<float> mxfp8_e4m3(const std::vector<float>& w) {
  std::vector<float> dq(w.size());
  for (int64_t r = 0; r < kRows; ++r)
    for (int64_t b = 0; b < kCols; b += 32) {
      const float* x = &w[size_t(r * kCols + b)];
      double amax = 0;
      for (int i = 0; i < 32; ++i) amax = std::max(amax, double(std::fabs(x[i])));
      const double s = amax > 0 ? std::ldexp(1.0, int(std::floor(std::log2(amax))) - 8) : 1.0;
      for (int i = 0; i < 32; ++i) dq[size_t(r * kCols + b + i)] = float(dtype_round(DType::e4m3, x[i] / s) * s);
    }
  return dq;
}

// int4 in blocks of 16 along a row, symmetric ([-8, 7], max|w| to 7). scale_dtype e4m3: scaled as
// NVFP4 is (an f32 tensor scale g = amax / (448 * 7), block scales e4m3(amax_block / 7 / g)), so it
// stores exactly NVFP4's bits (4.5 per weight); f16: one f16 scale per block (5 bits).
std::vector<float> int4_block16(const std::vector<float>& w, DType scale_dtype) {
  double tensor_amax = 0;
  for (float x : w) tensor_amax = std::max(tensor_amax, double(std::fabs(x)));
  const double g = scale_dtype == DType::e4m3 ? tensor_amax / (448.0 * 7) : 1.0;
  std::vector<float> dq(w.size());
  for (int64_t r = 0; r < kRows; ++r)
    for (int64_t b = 0; b < kCols; b += 16) {
      const float* x = &w[size_t(r * kCols + b)];
      double amax = 0;
      for (int i = 0; i < 16; ++i) amax = std::max(amax, double(std::fabs(x[i])));
      const double s = dtype_round(scale_dtype, amax / 7 / g) * g;
      for (int i = 0; i < 16; ++i) {
        const double q = s > 0 ? std::clamp(std::nearbyint(x[i] / s), -8.0, 7.0) : 0.0;
        dq[size_t(r * kCols + b + i)] = float(q * s);
      }
    }
  return dq;
}

struct Row {
  std::string name;
  QuantReport rep;
};

TEST(QuantErrorReport, EveryFormatOnGaussianWeights) {
  const auto w = gaussian_matrix();
  std::vector<Row> rows;
  auto stored = [&](const char* scheme, int bits, int64_t group) {
    auto f = make_format(scheme, bits, group, DType::f16);
    EXPECT_TRUE(f.ok()) << f.status().message();
    QuantReport rep;
    auto m = quantize(*f, w.data(), kRows, kCols, &rep);
    EXPECT_TRUE(m.ok()) << m.status().message();
    rows.push_back({f->name(), rep});
    return rep;
  };
  auto simulated = [&](const std::string& name, const std::vector<float>& dq, double bits) {
    QuantReport rep = measure_error(w.data(), dq.data(), kRows * kCols);
    rep.bits_per_weight = bits;
    rows.push_back({name + " (simulated)", rep});
    return rep;
  };
  for (int b = 1; b <= 8; ++b) stored("int", b, 128);
  stored("int", 4, 32);
  stored("int", 8, 0);
  stored("uint", 2, 64);
  stored("uint", 4, 128);
  stored("ternary", 0, 64);
  stored("ternary", 0, 128);
  stored("ternary5", 0, 128);
  stored("ternary5", 0, 0);
  const QuantReport mxfp4 = stored("mxfp4", 0, -1);
  const QuantReport nvfp4 = stored("nvfp4", 0, -1);
  const QuantReport mxint8 = stored("mxint8", 0, -1);
  const QuantReport nvint4 = simulated("int4/b16, e4m3 scales", int4_block16(w, DType::e4m3), 4.5);
  const QuantReport int4_f16 = simulated("int4/b16, f16 scales", int4_block16(w, DType::f16), 5.0);
  const QuantReport mxfp8 = simulated("mxfp8 (e4m3/b32, E8M0)", mxfp8_e4m3(w), 8.25);
  const QuantReport e4m3 = simulated("fp8 e4m3, per tensor", fp8_per_tensor(w, DType::e4m3), 8.0);
  const QuantReport e5m2 = simulated("fp8 e5m2, per tensor", fp8_per_tensor(w, DType::e5m2), 8.0);

  std::printf("\nN(0, 0.02) weights, %lld x %lld, mt19937 seed 2026\n\n", (long long)kRows, (long long)kCols);
  std::printf("| format | bits/weight | RMSE | SQNR (dB) | rel. L2 |\n|---|---|---|---|---|\n");
  for (const Row& r : rows)
    std::printf("| %s | %.3f | %.3e | %.2f | %.4f |\n", r.name.c_str(), r.rep.bits_per_weight, r.rep.rmse, r.rep.sqnr_db,
                r.rep.rel_l2);

  // Every SQNR is what 6.02 dB per bit predicts, within the scale overhead (see quantize_test.cpp
  // for the per-format floors); here the comparisons the docs make:
  // INT vs FP at 8 bits: on Gaussian data the uniform grid wins (fp8 spends codes on a dynamic
  // range a 32-element block does not have), by several dB.
  EXPECT_GT(mxint8.sqnr_db, mxfp8.sqnr_db + 3);
  EXPECT_GT(mxint8.sqnr_db, e4m3.sqnr_db + 3);
  EXPECT_GT(e4m3.sqnr_db, e5m2.sqnr_db + 3);  // one more mantissa bit: ~6 dB
  // INT vs FP at 4 bits with the same blocks of 16 and e4m3 scales (equal storage): recorded both
  // ways round in the literature; on Gaussian data (block crest factor ~2.5) int4 wins.
  EXPECT_GT(nvint4.sqnr_db, nvfp4.sqnr_db);
  EXPECT_GT(int4_f16.sqnr_db, nvint4.sqnr_db - 0.5);  // f16 block scales: at least as good
  EXPECT_GT(nvfp4.sqnr_db, mxfp4.sqnr_db);            // finer blocks and finer scales
  for (const Row& r : rows) {
    EXPECT_GT(r.rep.sqnr_db, 0) << r.name;
    EXPECT_NEAR(r.rep.rel_l2, std::pow(10.0, -r.rep.sqnr_db / 20), 1e-9) << r.name;
  }
}

}  // namespace
}  // namespace tessel::quant
