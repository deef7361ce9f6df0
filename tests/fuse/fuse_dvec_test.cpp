// DVecF, the CUDA runner's 8-column value (include/tessel/fuse/dvec.hpp), on the host: the lanes of
// its operators, comparisons and where(); its whole-vector loads and stores of f32, bf16, 8-bit and
// int8 (the word packing the device does with 16-byte loads); and every fusion function and codec
// giving, lane by lane, bitwise the result of the same function on one float. CI has no GPU, so
// this is where the vector path's lane logic is checked on every change; the H200 runs the rest
// (tests/cuda/fuse_cuda_test.cu).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

#include "tessel/fuse/fuse.hpp"

namespace tessel::fuse {
namespace {

using V = DVecF;
constexpr int N = kDeviceLanes;

V make(std::initializer_list<float> xs) {
  V v{};
  int i = 0;
  for (float x : xs) v.v[i++] = x;
  return v;
}

uint32_t bits(float x) {
  uint32_t u;
  std::memcpy(&u, &x, 4);
  return u;
}

// Equal as bit patterns, except that any NaN equals any NaN.
void expect_same(float got, float want, const char* what, float x) {
  if (std::isnan(want)) {
    EXPECT_TRUE(std::isnan(got)) << what << "(" << x << ")";
  } else {
    EXPECT_EQ(bits(got), bits(want)) << what << "(" << x << "): " << got << " vs " << want;
  }
}

TEST(FuseDVec, OperatorsAndMasks) {
  const V a = make({1, -2, 3, -4, 5, -6, 7, -8});
  const V b = make({8, 7, 6, 5, 4, 3, 2, 1});
  const V s = a + b * 2.0f - 1.0f;
  const V q = 1.0f / b;
  for (int i = 0; i < N; ++i) {
    EXPECT_EQ(s.v[i], a.v[i] + b.v[i] * 2.0f - 1.0f);
    EXPECT_EQ(q.v[i], 1.0f / b.v[i]);
  }
  const auto m = a > b;  // int32 lanes, all ones where true
  const V w = where(m, a, b);
  for (int i = 0; i < N; ++i) {
    EXPECT_EQ(m.v[i], a.v[i] > b.v[i] ? -1 : 0);
    EXPECT_EQ(w.v[i], a.v[i] > b.v[i] ? a.v[i] : b.v[i]);
  }
  // max and min: one select per lane with where()'s values, a NaN in b ignored, one in a kept.
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const V an = make({nan, -2, 3, -4, 5, -6, 7, -8}), bn = make({8, nan, 6, 5, 4, 3, 2, 1});
  const V mx = max(an, bn), mn = min(an, bn);
  for (int i = 0; i < N; ++i) {
    const V want_max = where(bn > an, bn, an), want_min = where(bn < an, bn, an);
    EXPECT_EQ(bits(mx.v[i]), bits(want_max.v[i])) << "max lane " << i;
    EXPECT_EQ(bits(mn.v[i]), bits(want_min.v[i])) << "min lane " << i;
  }
  EXPECT_TRUE(std::isnan(mx.v[0]));  // NaN in a: kept
  EXPECT_EQ(mx.v[1], -2.0f);        // NaN in b: ignored
  EXPECT_EQ(mx.v[3], 5.0f);
  EXPECT_EQ(mn.v[3], -4.0f);
  V acc = a;
  acc += b;
  acc *= 0.5f;
  for (int i = 0; i < N; ++i) EXPECT_EQ(acc.v[i], (a.v[i] + b.v[i]) * 0.5f);
  using S = Simd<V>;
  const auto u = S::to_bits(a);
  EXPECT_EQ(((u >> 31) & 1u).v[1], 1u);             // the sign bit of -2
  EXPECT_EQ((~S::splat_u(0u)).v[0], 0xffffffffu);
  EXPECT_EQ(S::first(3).v[2], -1);
  EXPECT_EQ(S::first(3).v[3], 0);
  EXPECT_EQ(S::reduce_max(a), 7.0f);
  EXPECT_EQ(S::reduce_sum(b), 36.0f);
}

// Whole-vector loads and stores: every lane lands in its own element, in order, for each width.
TEST(FuseDVec, LoadsAndStoresKeepLaneOrder) {
  using S = Simd<V>;
  alignas(16) uint16_t h[N] = {0x0000, 0x8000, 0x3f80, 0xbf80, 0x7f80, 0xffff, 0x0001, 0x1234};
  const auto hu = S::load_u16(h);
  for (int i = 0; i < N; ++i) EXPECT_EQ(hu.v[i], h[i]) << i;
  alignas(16) uint16_t h2[N] = {};
  S::store_u16(h2, hu);
  EXPECT_EQ(std::memcmp(h, h2, sizeof h), 0);

  alignas(8) uint8_t b[N] = {0, 1, 0x7f, 0x80, 0xfe, 0xff, 0x10, 0x42};
  const auto bu = S::load_u8(b);
  for (int i = 0; i < N; ++i) EXPECT_EQ(bu.v[i], b[i]) << i;
  alignas(8) uint8_t b2[N] = {};
  S::store_u8(b2, bu);
  EXPECT_EQ(std::memcmp(b, b2, sizeof b), 0);

  alignas(8) int8_t c[N] = {0, -1, 127, -128, 5, -5, 64, -64};
  const auto ci = S::load_i8(c);
  for (int i = 0; i < N; ++i) EXPECT_EQ(ci.v[i], c[i]) << i;  // sign-extended
  alignas(8) int8_t c2[N] = {};
  S::store_i8(c2, ci);
  EXPECT_EQ(std::memcmp(c, c2, sizeof c), 0);

  alignas(16) float f[N] = {1.5f, -0.0f, 3e38f, -1e-40f, 7, 8, 9, 10};
  alignas(16) float f2[N] = {};
  S::store_f32(f2, S::load_f32(f));
  EXPECT_EQ(std::memcmp(f, f2, sizeof f), 0);

  // Through the element types, as chains read and write.
  alignas(16) uint16_t y[N] = {};
  bf16::store(y, bf16::load<V>(h));
  EXPECT_EQ(std::memcmp(y, h, sizeof h), 0);  // zeros, +-1, inf, a NaN, a subnormal: all exact
}

// A user functor that selects with where(): what fusion.md tells users to write instead of ?:.
struct Clamp {
  template <class W>
  TESSEL_HOST_DEVICE void operator()(W& y, const W& x) const {
    y = where(x > 1.0f, splat<W>(1.0f), where(x < -1.0f, splat<W>(-1.0f), x));
  }
};

// The same functions on DVecF lanes and on one float: bitwise equal results.
TEST(FuseDVec, FunctionsMatchTheOneLanePath) {
  const float inf = std::numeric_limits<float>::infinity(), nan = std::numeric_limits<float>::quiet_NaN();
  std::vector<float> xs = {0.0f, -0.0f, 1e-30f, -1e-30f, 0.3f, -0.7f, 1.0f, -2.5f, 5.0f, -9.0f, 20.0f, -30.0f,
                           88.0f, -87.0f, 100.0f, -100.0f, 447.0f, 449.0f, -127.4f, 127.6f, inf, -inf, nan, 1e-3f};
  while (xs.size() % N) xs.push_back(0.5f);
  for (size_t base = 0; base < xs.size(); base += N) {
    V x{};
    for (int i = 0; i < N; ++i) x.v[i] = xs[base + size_t(i)];
    const V e = fuse::exp(x), sg = fuse::sigmoid(x), si = fuse::silu(x), th = fuse::tanh(x), er = fuse::erf(x),
            ec = fuse::erfc(x), ge = fuse::gelu_erf(x), gt = fuse::gelu_tanh(x), ab = fuse::abs(x),
            rb = round_to<bf16>(x), r8 = round_to<e4m3>(x), ri = round_to<i8>(x);
    V cl;
    Clamp{}(cl, x);
    const auto hb = bf16_encode(x), h8 = e4m3_encode(x);
    const auto hi = i8_encode(x);
    for (int i = 0; i < N; ++i) {
      const float v = x.v[i];
      expect_same(e.v[i], fuse::exp(v), "exp", v);
      expect_same(sg.v[i], fuse::sigmoid(v), "sigmoid", v);
      expect_same(si.v[i], fuse::silu(v), "silu", v);
      expect_same(th.v[i], fuse::tanh(v), "tanh", v);
      expect_same(er.v[i], fuse::erf(v), "erf", v);
      expect_same(ec.v[i], fuse::erfc(v), "erfc", v);
      expect_same(ge.v[i], fuse::gelu_erf(v), "gelu_erf", v);
      expect_same(gt.v[i], fuse::gelu_tanh(v), "gelu_tanh", v);
      expect_same(ab.v[i], fuse::abs(v), "abs", v);
      expect_same(rb.v[i], round_to<bf16>(v), "round_to<bf16>", v);
      expect_same(r8.v[i], round_to<e4m3>(v), "round_to<e4m3>", v);
      expect_same(ri.v[i], round_to<i8>(v), "round_to<i8>", v);
      float c1;
      Clamp{}(c1, v);
      expect_same(cl.v[i], c1, "clamp", v);
      EXPECT_EQ(hb.v[i], bf16_encode(v)) << "bf16_encode(" << v << ")";
      EXPECT_EQ(h8.v[i], e4m3_encode(v)) << "e4m3_encode(" << v << ")";
      EXPECT_EQ(hi.v[i], i8_encode(v)) << "i8_encode(" << v << ")";
    }
  }
}

}  // namespace
}  // namespace tessel::fuse
