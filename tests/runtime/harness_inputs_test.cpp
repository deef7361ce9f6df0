// Tests for the harness's input generation and poisoning: the same seed gives the same bytes for any
// thread count (packed dtypes included: threads must not share a byte), the normal draws (two per
// Box-Muller pair) have the right moments and no repeated values, and the CPU backend's pattern fill
// repeats its pattern over any length.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "runtime/harness_memory.hpp"
#include "tessel/core/dtype.hpp"
#include "tessel/runtime/backend.hpp"

namespace tessel {
namespace {

TensorDesc input(DType t, std::vector<int64_t> shape) {
  return TensorDesc{std::string(1, 'x'), TensorDesc::Role::input, t, std::move(shape)};
}

TEST(HarnessInputs, SameBytesForAnyThreadCount) {
  // Odd element counts leave a half pair at the end; 2- and 3-bit codes pack 4 and 8/3 per byte.
  for (DType t : {DType::f32, DType::bf16, DType::e4m3, DType::i8, DType::u2, DType::s3}) {
    for (Distribution dist : kAllDistributions) {
      const std::vector<TensorDesc> descs = {input(t, {37, 29}), input(t, {1, 1})};
      const auto one = harness::make_inputs(descs, dist, 42, 1);
      for (int threads : {2, 3, 8}) {
        const auto many = harness::make_inputs(descs, dist, 42, threads);
        ASSERT_EQ(one.size(), many.size());
        for (size_t i = 0; i < one.size(); ++i)
          EXPECT_EQ(one[i], many[i]) << dtype_name(t) << " " << distribution_name(dist) << " tensor " << i
                                     << " threads " << threads;
      }
    }
  }
}

TEST(HarnessInputs, NormalDrawsHaveUnitMomentsAndNoRepeats) {
  const int64_t n = 200001;  // odd: the last element is the cosine half of a pair
  const auto bufs = harness::make_inputs({input(DType::f32, {n})}, Distribution::normal, 7, 2);
  std::vector<float> x(static_cast<size_t>(n));
  std::memcpy(x.data(), bufs[0].data(), x.size() * sizeof(float));
  double sum = 0, sum2 = 0;
  int64_t equal_neighbours = 0;
  for (int64_t i = 0; i < n; ++i) {
    sum += x[size_t(i)];
    sum2 += double(x[size_t(i)]) * x[size_t(i)];
    if (i > 0 && x[size_t(i)] == x[size_t(i - 1)]) ++equal_neighbours;
  }
  const double mean = sum / double(n), var = sum2 / double(n) - mean * mean;
  EXPECT_NEAR(mean, 0.0, 0.01);  // 4.5 standard errors
  EXPECT_NEAR(var, 1.0, 0.02);
  EXPECT_EQ(equal_neighbours, 0);
}

TEST(HarnessInputs, PatternFillRepeatsOverAnyLength) {
  Backend* be = backend_for(Device::cpu);
  ASSERT_NE(be, nullptr);
  const unsigned char pattern[4] = {0x01, 0x80, 0xC0, 0x7F};
  for (size_t pattern_bytes : {size_t{1}, size_t{2}, size_t{4}}) {
    for (size_t bytes : {size_t{0}, size_t{1}, size_t{3}, size_t{4}, size_t{5}, size_t{63}, size_t{1000}, size_t{4099}}) {
      std::vector<unsigned char> buf(bytes + 8, 0xEE);
      ASSERT_TRUE(be->fill_pattern(buf.data(), pattern, pattern_bytes, bytes).ok());
      for (size_t i = 0; i < bytes; ++i)
        ASSERT_EQ(buf[i], pattern[i % pattern_bytes]) << "byte " << i << " of " << bytes << ", period " << pattern_bytes;
      for (size_t i = bytes; i < buf.size(); ++i) ASSERT_EQ(buf[i], 0xEE) << "wrote past the end at " << i;
    }
  }
}

}  // namespace
}  // namespace tessel
