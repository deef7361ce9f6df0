// Accuracy of the fusion math (exp, sigmoid, SiLU, tanh, erf, erfc, both GELUs) against double, on
// every ISA through a chain, and on the one-lane path a CUDA thread would run on the host.
#include <cmath>
#include <functional>

#include "fuse_test_util.hpp"

namespace tessel::fuse::test {
namespace {

// A user-style functor that applies fn::X to the value: the same code for vectors and float.
template <int K>
struct Fn {
  template <class V>
  TESSEL_HOST_DEVICE void operator()(V& y, const V& x) const {
    if constexpr (K == 0) y = fuse::exp(x);
    if constexpr (K == 1) y = fuse::sigmoid(x);
    if constexpr (K == 2) y = fuse::silu(x);
    if constexpr (K == 3) y = fuse::tanh(x);
    if constexpr (K == 4) y = fuse::erf(x);
    if constexpr (K == 5) y = fuse::erfc(x);
    if constexpr (K == 6) y = fuse::gelu_erf(x);
    if constexpr (K == 7) y = fuse::gelu_tanh(x);
    if constexpr (K == 8) y = fuse::rcp(x);
  }
};

struct Case {
  const char* name;
  std::function<double(double)> ref;
  double lo, hi;
  double max_rel;  // |got - ref| <= (max_rel + x^2 * sq_rel + |x|^3 * cube_rel) * |ref|
  // In the far tails the argument of exp is large (z^2 for erfc, ~0.07 |x|^3 for gelu_tanh) and
  // its own f32 rounding, a few ulp of it, becomes the relative error of a tiny result.
  double sq_rel;
  double cube_rel = 0;
};

// 0.5 x (1 + tanh(u)) without its cancellation for negative x: the identity (1 + tanh u) / 2 = sigmoid(2u).
double gelu_tanh_ref(double x) { return x / (1 + std::exp(-2 * 0.7978845608028654 * (x + 0.044715 * x * x * x))); }

// Bounds found by measurement here, rounded up: what docs/fusion.md and math.hpp promise.
const Case kCases[] = {
    {"exp", [](double x) { return std::exp(x); }, -86, 88.7, 3e-7, 0},
    {"sigmoid", [](double x) { return 1 / (1 + std::exp(-x)); }, -80, 80, 5e-7, 0},
    {"silu", [](double x) { return x / (1 + std::exp(-x)); }, -80, 80, 5e-7, 0},
    {"tanh", [](double x) { return std::tanh(x); }, -12, 12, 5e-7, 0},
    {"erf", [](double x) { return std::erf(x); }, -6, 6, 1e-6, 0},
    {"erfc", [](double x) { return std::erfc(x); }, -4, 9, 2e-6, 1e-7},
    {"gelu_erf", [](double x) { return 0.5 * x * std::erfc(-x / std::sqrt(2.0)); }, -12, 12, 2e-6, 1.5e-7},
    {"gelu_tanh", gelu_tanh_ref, -40, 40, 5e-7, 0, 2e-8},
    {"rcp", [](double x) { return 1 / x; }, 0.01, 1e6, 3e-7, 0},
};

// Results near and below the smallest normal float (1.2e-38) may lose their digits or flush to zero
// (exp does below e^-86.64; a reciprocal of ~1e38 lands among the subnormals).
constexpr double kTiny = 1e-36;

template <int K>
void check(const Case& c, const cpu::Options& o) {
  const int64_t n = 100003;
  std::vector<float> x(static_cast<size_t>(n)), y(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) x[size_t(i)] = float(c.lo + (c.hi - c.lo) * double(i) / double(n - 1));
  cpu::run(chain(read<f32>(x.data(), n), map(Fn<K>{}), write<f32>(y.data(), n)), 1, n, o);
  double worst = 0;
  float worst_x = 0;
  for (int64_t i = 0; i < n; ++i) {
    const double xi = double(x[size_t(i)]);
    const double r = c.ref(xi);
    const double err = std::fabs(double(y[size_t(i)]) - r) /
                       ((c.max_rel + xi * xi * c.sq_rel + std::fabs(xi * xi * xi) * c.cube_rel) * std::fabs(r) + kTiny);
    if (!(err <= worst)) {
      worst = err;
      worst_x = x[size_t(i)];
    }
  }
  EXPECT_LE(worst, 1.0) << c.name << " worst at x = " << worst_x << " (" << worst << " of the bound)";
  // The one-lane path: what a CUDA thread evaluates (on the host it runs the same polynomials).
  for (int64_t i = 0; i < n; i += 97) {
    float one;
    Fn<K>{}(one, x[size_t(i)]);
    const double xi = double(x[size_t(i)]);
    const double r = c.ref(xi);
    EXPECT_LE(std::fabs(double(one) - r),
              (c.max_rel + xi * xi * c.sq_rel + std::fabs(xi * xi * xi) * c.cube_rel) * std::fabs(r) + kTiny)
        << c.name << " one lane, x = " << xi;
  }
}

class MathAccuracy : public PerIsa {};

TEST_P(MathAccuracy, WithinDocumentedBounds) {
  check<0>(kCases[0], opts());
  check<1>(kCases[1], opts());
  check<2>(kCases[2], opts());
  check<3>(kCases[3], opts());
  check<4>(kCases[4], opts());
  check<5>(kCases[5], opts());
  check<6>(kCases[6], opts());
  check<7>(kCases[7], opts());
  check<8>(kCases[8], opts());
}

// min and max are where(b < a, b, a) and where(b > a, b, a) on every ISA (x86 vectors use minps and
// maxps): a NaN in the first argument stays, one in the second is dropped, and of two zeros the first
// is kept. Every lane sees each case (the row runs through whole vectors and the tail).
TEST_P(MathAccuracy, MinMaxKeepTheSelectSemantics) {
  const float nan = std::nanf("");
  const std::vector<float> base = {nan, -0.0f, 0.0f, 1.0f, -1.0f, 5.0f};
  std::vector<float> x;
  for (int i = 0; i < 7; ++i) x.insert(x.end(), base.begin(), base.end());
  const auto n = int64_t(x.size());
  std::vector<float> lo(x.size()), hi(x.size());
  // min(x, 0): NaN stays NaN, min(-0, 0) is -0 (b < a fails: a), min(0, 0) is 0.
  const auto min0 = [](auto& y, const auto& v) { y = fuse::min(v, splat<std::decay_t<decltype(v)>>(0.0f)); };
  const auto max0 = [](auto& y, const auto& v) { y = fuse::max(splat<std::decay_t<decltype(v)>>(0.0f), v); };
  cpu::run(chain(read<f32>(x.data(), n), map(min0), write<f32>(lo.data(), n)),
           1, n, opts());
  // max(0, x): a NaN in the second argument is dropped (0 is kept), and max(0, -0) is 0.
  cpu::run(chain(read<f32>(x.data(), n), map(max0), write<f32>(hi.data(), n)),
           1, n, opts());
  for (size_t i = 0; i < x.size(); ++i) {
    const float v = x[i];
    const float want_lo = std::isnan(v) ? nan : (0.0f < v ? 0.0f : v);
    const float want_hi = v > 0.0f ? v : 0.0f;
    if (std::isnan(want_lo)) {
      EXPECT_TRUE(std::isnan(lo[i])) << i;
    } else {
      EXPECT_EQ(std::signbit(lo[i]), std::signbit(want_lo)) << i;
      EXPECT_EQ(lo[i], want_lo) << i;
    }
    EXPECT_FALSE(std::isnan(hi[i])) << i;
    EXPECT_EQ(std::signbit(hi[i]), std::signbit(want_hi)) << i;
    EXPECT_EQ(hi[i], want_hi) << i;
  }
}

TEST_P(MathAccuracy, ExpEdges) {
  const float inf = std::numeric_limits<float>::infinity();
  std::vector<float> x = {-inf, -1000.0f, -87.0f, 0.0f, 88.72f, 88.8f, 1000.0f, inf, std::nanf("")};
  std::vector<float> y(x.size());
  const auto n = int64_t(x.size());
  cpu::run(chain(read<f32>(x.data(), n), map(Fn<0>{}), write<f32>(y.data(), n)), 1, n, opts());
  EXPECT_EQ(y[0], 0.0f);
  EXPECT_EQ(y[1], 0.0f);
  EXPECT_EQ(y[2], 0.0f);  // below -86.64 results flush to zero
  EXPECT_EQ(y[3], 1.0f);
  EXPECT_NEAR(y[4], std::exp(double(88.72f)), 1e-6 * std::exp(double(88.72f)));
  EXPECT_EQ(y[5], inf);
  EXPECT_EQ(y[6], inf);
  EXPECT_EQ(y[7], inf);
  EXPECT_TRUE(std::isnan(y[8]));
  // SiLU's tails: -0 for very negative x (not NaN), x for very positive x.
  std::vector<float> s = {-1000.0f, -100.0f, 100.0f, 1000.0f};
  std::vector<float> t(s.size());
  cpu::run(chain(read<f32>(s.data(), 4), silu(), write<f32>(t.data(), 4)), 1, 4, opts());
  EXPECT_EQ(t[0], 0.0f);
  EXPECT_EQ(t[1], 0.0f);
  EXPECT_NEAR(t[2], 100.0f, 1e-4f);  // x * rcp(1 + tiny): within the reciprocal's ulp or two
  EXPECT_NEAR(t[3], 1000.0f, 1e-3f);
}

INSTANTIATE_TEST_SUITE_P(Isa, MathAccuracy, ::testing::ValuesIn(all_isas()), isa_test_name);

}  // namespace
}  // namespace tessel::fuse::test
