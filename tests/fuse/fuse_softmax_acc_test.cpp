// The one-lane online softmax accumulator (what a CUDA thread runs: it rescales only when the max
// grows, one exp per element) against a double reference and against the branch-free vector form
// of the CPU runner: same statistics on rising, falling and mid-row maxima, -inf and NaN inputs.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "tessel/fuse/fuse.hpp"

namespace {

namespace fz = tessel::fuse;

// Max and sum of exp(x - max) in double.
void reference(const std::vector<float>& x, double& m, double& s) {
  m = -std::numeric_limits<double>::infinity();
  for (float v : x) m = std::max(m, double(v));
  s = 0;
  for (float v : x) s += std::exp(double(v) - m);
}

fz::SoftmaxAcc<float> one_lane(const std::vector<float>& x) {
  fz::SoftmaxAcc<float> a;
  for (float v : x) a.add<false>(v, 1);
  return a;
}

TEST(SoftmaxAccOneLane, MatchesDoubleOnAnyOrder) {
  std::vector<std::vector<float>> rows = {
      {1.0f},
      {-3.0f, -2.0f, -1.0f, 0.0f, 1.0f, 2.0f, 3.0f},     // the max rises every step
      {3.0f, 2.0f, 1.0f, 0.0f, -1.0f, -2.0f, -3.0f},     // set once, never rescaled
      {0.5f, -1.0f, 40.0f, 0.25f, -80.0f, 39.0f, 1.0f},  // mid-row, large gaps
  };
  std::vector<float> wide(1000);
  for (size_t i = 0; i < wide.size(); ++i) wide[i] = std::sin(float(i) * 0.37f) * 20.0f;
  rows.push_back(wide);
  for (const auto& x : rows) {
    double m, s;
    reference(x, m, s);
    const auto a = one_lane(x);
    EXPECT_EQ(double(a.m), m) << "row of " << x.size();
    EXPECT_NEAR(a.s, s, 2e-6 * s) << "row of " << x.size();
    // Merging two halves (the GPU's cross-thread step) gives the same statistics.
    const size_t h = x.size() / 2;
    auto lo = one_lane(std::vector<float>(x.begin(), x.begin() + long(h)));
    const auto hi = one_lane(std::vector<float>(x.begin() + long(h), x.end()));
    lo.merge(hi);
    EXPECT_EQ(double(lo.m), m);
    EXPECT_NEAR(lo.s, s, 2e-6 * s);
  }
}

TEST(SoftmaxAccOneLane, MinusInfinityAddsNothingAndNaNPropagates) {
  const float inf = std::numeric_limits<float>::infinity();
  const auto a = one_lane({-inf, 2.0f, -inf});
  EXPECT_EQ(a.m, 2.0f);
  EXPECT_DOUBLE_EQ(a.s, 1.0);
  const auto b = one_lane({1.0f, std::numeric_limits<float>::quiet_NaN(), 0.0f});
  EXPECT_TRUE(std::isnan(b.s));
}

// The one-lane form and the vector form (the CPU runner's, lanes reduced by lanes()) agree.
TEST(SoftmaxAccOneLane, AgreesWithTheVectorForm) {
  std::vector<float> x(64);
  for (size_t i = 0; i < x.size(); ++i) x[i] = std::cos(float(i) * 1.3f) * 10.0f + float(i % 7);
  fz::SoftmaxAcc<fz::Vec<4>> v;
  for (size_t i = 0; i < x.size(); i += 4) {
    fz::Vec<4> q = {x[i], x[i + 1], x[i + 2], x[i + 3]};
    v.add<false>(q, 4);
  }
  const auto vl = v.lanes();
  const auto a = one_lane(x);
  EXPECT_EQ(vl.m, a.m);
  EXPECT_NEAR(vl.s, a.s, 1e-6 * a.s);
}

}  // namespace
