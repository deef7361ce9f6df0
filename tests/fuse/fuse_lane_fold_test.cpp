// A row's reductions on CPU vectors fold the lanes in one stated order (SumAcc::lanes: lane i plus lane
// i + N/2, then halves of that, down to lane 0), written out here on scalars with values whose double
// sum depends on the order; and the largest lane counts a NaN only in lane 0, as a scan that starts
// there does.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>

#include "tessel/fuse/fuse.hpp"

namespace {

namespace fz = tessel::fuse;

template <int N>
void check_fold(uint32_t seed) {
  using V = fz::Vec<N>;
  std::mt19937 g(seed);
  std::uniform_real_distribution<float> unit(-1.0f, 1.0f);
  for (int trial = 0; trial < 200; ++trial) {
    float x[N];
    for (float& v : x) v = std::ldexp(unit(g), int(g() % 120) - 60);  // 120 binades: the order shows
    V v;
    std::memcpy(&v, x, sizeof v);
    fz::SumAcc<V> a;
    a.template add<false>(v, N);
    double l[N];
    for (int i = 0; i < N; ++i) l[i] = double(x[i]);
    for (int w = N / 2; w >= 1; w /= 2)
      for (int i = 0; i < w; ++i) l[i] += l[i + w];
    EXPECT_EQ(a.lanes().s, l[0]) << "N=" << N << " trial " << trial;
    float m = x[0];
    for (int i = 1; i < N; ++i) m = x[i] > m ? x[i] : m;
    EXPECT_EQ(fz::Simd<V>::reduce_max(v), m) << "N=" << N << " trial " << trial;
  }
  const float nan = std::numeric_limits<float>::quiet_NaN();
  float x[N];
  for (int i = 0; i < N; ++i) x[i] = float(i);
  V v;
  x[N - 1] = nan;  // not lane 0: ignored
  std::memcpy(&v, x, sizeof v);
  EXPECT_EQ(fz::Simd<V>::reduce_max(v), float(N - 2)) << "N=" << N;
  x[0] = nan;  // lane 0: the result
  std::memcpy(&v, x, sizeof v);
  EXPECT_TRUE(std::isnan(fz::Simd<V>::reduce_max(v))) << "N=" << N;
}

TEST(LaneFold, SumsInTheStatedOrderAndMaxKeepsLaneZerosNaN) {
  check_fold<4>(4);
  check_fold<8>(8);
  check_fold<16>(16);
}

}  // namespace
