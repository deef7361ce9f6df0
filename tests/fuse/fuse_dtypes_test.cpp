// The fusion element types encode and decode exactly as src/core/dtype.cpp does, on every ISA and
// on the one-lane (CUDA) path.
#include <cmath>
#include <limits>

#include "fuse_test_util.hpp"

namespace tessel::fuse::test {
namespace {

// Values that probe every branch: zeros, subnormals of both formats, rounding midpoints, the
// saturation edges, infinities and NaNs, then random bit patterns.
std::vector<float> probe_values() {
  std::vector<float> v = {0.0f,
                          -0.0f,
                          1.0f,
                          -1.0f,
                          448.0f,
                          -448.0f,
                          464.0f,
                          463.99f,
                          480.0f,
                          1e6f,
                          -1e30f,
                          0.015625f,
                          0.0146484375f,
                          0.0009765625f,
                          0.001953125f,
                          0.0029296875f,
                          1e-40f,
                          -1e-45f,
                          std::numeric_limits<float>::infinity(),
                          -std::numeric_limits<float>::infinity(),
                          std::numeric_limits<float>::quiet_NaN(),
                          -std::numeric_limits<float>::quiet_NaN(),
                          126.5f,
                          127.5f,
                          -127.5f,
                          -128.5f,
                          2.5f,
                          3.5f,
                          -2.5f,
                          0.5f,
                          1.5f};
  // Every e4m3 midpoint, and its neighbours one f32 ulp away.
  for (int c = 0; c < 127; ++c) {
    const float a = e4m3_bits_to_f32(uint8_t(c)), b = e4m3_bits_to_f32(uint8_t(c + 1));
    const float mid = 0.5f * (a + b);
    for (float m : {mid, std::nextafter(mid, 0.0f), std::nextafter(mid, 1e9f)}) {
      v.push_back(m);
      v.push_back(-m);
    }
  }
  Rng rng{7};
  for (int i = 0; i < 20000; ++i) {
    const auto bits = uint32_t(rng.next());
    float f;
    std::memcpy(&f, &bits, 4);
    v.push_back(f);
    v.push_back(float(rng.uniform(-600, 600)));
  }
  return v;
}

bool same_float(float a, float b) {
  if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b);
  return std::memcmp(&a, &b, 4) == 0;
}

class Dtypes : public PerIsa {};

TEST_P(Dtypes, EncodeMatchesCore) {
  const std::vector<float> x = probe_values();
  const auto n = int64_t(x.size());
  std::vector<uint16_t> b(x.size());
  std::vector<uint8_t> e(x.size());
  std::vector<int8_t> q(x.size());
  // One row holds everything, so the body and the tail of the runner both see probe values.
  cpu::run(chain(read<f32>(x.data(), n), write<bf16>(b.data(), n), write<e4m3>(e.data(), n), write<i8>(q.data(), n)), 1,
           n, opts());
  for (size_t i = 0; i < x.size(); ++i) {
    const uint16_t wb = f32_to_bf16_bits(x[i]);
    if (std::isnan(x[i])) {
      // NaN stays a NaN of the same sign (the payload may differ).
      EXPECT_TRUE(std::isnan(bf16_bits_to_f32(b[i])) && (b[i] >> 15) == (wb >> 15)) << i;
      EXPECT_EQ(e[i] & 0x7f, 0x7f) << i;
      EXPECT_EQ(q[i], 0) << i;
      continue;
    }
    ASSERT_EQ(b[i], wb) << "bf16 of " << x[i];
    ASSERT_EQ(e[i], f32_to_e4m3_bits(x[i])) << "e4m3 of " << x[i];
    int8_t wq;
    store_from_double(DType::i8, &wq, 0, double(x[i]));
    ASSERT_EQ(q[i], wq) << "i8 of " << x[i];
  }
}

TEST_P(Dtypes, DecodeMatchesCoreForEveryCode) {
  std::vector<uint16_t> b(65536);
  for (int i = 0; i < 65536; ++i) b[size_t(i)] = uint16_t(i);
  std::vector<uint8_t> e(256);
  std::vector<int8_t> q(256);
  for (int i = 0; i < 256; ++i) {
    e[size_t(i)] = uint8_t(i);
    q[size_t(i)] = int8_t(i - 128);
  }
  std::vector<float> fb(b.size()), fe(e.size()), fq(q.size());
  cpu::run(chain(read<bf16>(b.data(), 65536), write<f32>(fb.data(), 65536)), 1, 65536, opts());
  cpu::run(chain(read<e4m3>(e.data(), 256), write<f32>(fe.data(), 256)), 1, 256, opts());
  cpu::run(chain(read<i8>(q.data(), 256), write<f32>(fq.data(), 256)), 1, 256, opts());
  for (int i = 0; i < 65536; ++i) ASSERT_TRUE(same_float(fb[size_t(i)], bf16_bits_to_f32(uint16_t(i)))) << i;
  for (int i = 0; i < 256; ++i) {
    ASSERT_TRUE(same_float(fe[size_t(i)], e4m3_bits_to_f32(uint8_t(i)))) << i;
    ASSERT_EQ(fq[size_t(i)], float(i - 128));
  }
}

// Streaming stores take a different instruction; a large aligned row takes them.
TEST_P(Dtypes, StreamingStoresWriteTheSameBits) {
  const int64_t n = 4096 + 7;
  std::vector<float> x(static_cast<size_t>(n));
  Rng rng{3};
  for (float& f : x) f = float(rng.uniform(-500, 500));
  std::vector<uint16_t> b0(x.size()), b1(x.size());
  std::vector<uint8_t> e0(x.size()), e1(x.size());
  auto o = opts();
  o.stream = 0;
  cpu::run(chain(read<f32>(x.data(), n), write<bf16>(b0.data(), n), write<e4m3>(e0.data(), n)), 1, n, o);
  o.stream = 1;
  cpu::run(chain(read<f32>(x.data(), n), write<bf16>(b1.data(), n), write<e4m3>(e1.data(), n)), 1, n, o);
  EXPECT_EQ(b0, b1);
  EXPECT_EQ(e0, e1);
}

// cast<bf16>() rounds in registers (round_to), and a bf16 write right after it stores the cast's
// bits without rounding again (kExactWrite): both must give core's bits, streamed or not.
TEST_P(Dtypes, CastThenWriteMatchesCore) {
  const std::vector<float> x = probe_values();
  const auto n = int64_t(x.size());
  for (int stream : {0, 1}) {
    std::vector<uint16_t> b(x.size());
    std::vector<float> f(x.size());
    auto o = opts();
    o.stream = stream;
    cpu::run(chain(read<f32>(x.data(), n), cast<bf16>(), write<bf16>(b.data(), n), write<f32>(f.data(), n)), 1, n, o);
    for (size_t i = 0; i < x.size(); ++i) {
      const uint16_t wb = f32_to_bf16_bits(x[i]);
      if (std::isnan(x[i])) {
        EXPECT_TRUE(std::isnan(bf16_bits_to_f32(b[i])) && (b[i] >> 15) == (wb >> 15)) << i;
        EXPECT_TRUE(std::isnan(f[i])) << i;
        continue;
      }
      ASSERT_EQ(b[i], wb) << "bf16 of " << x[i] << ", stream " << stream;
      ASSERT_TRUE(same_float(f[i], bf16_bits_to_f32(wb))) << "cast of " << x[i] << ", stream " << stream;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Isa, Dtypes, ::testing::ValuesIn(all_isas()), isa_test_name);

// The one-lane functions are what a CUDA thread runs; on the host they must agree too.
TEST(DtypesOneLane, EncodeDecodeMatchCore) {
  for (float x : probe_values()) {
    if (std::isnan(x)) continue;
    ASSERT_EQ(bf16_encode(x), f32_to_bf16_bits(x)) << x;
    ASSERT_EQ(e4m3_encode(x), f32_to_e4m3_bits(x)) << x;
  }
  for (int c = 0; c < 256; ++c)
    ASSERT_TRUE(same_float(e4m3_decode<float>(uint32_t(c)), e4m3_bits_to_f32(uint8_t(c)))) << c;
}

}  // namespace
}  // namespace tessel::fuse::test
