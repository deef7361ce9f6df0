// Weight formats: element codecs, the planar and block layouts (pinned byte by byte), every code of
// every format, and pack/unpack round trips over shapes with tails.
#include "tessel/quant/format.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

namespace tessel::quant {
namespace {

Format fmt(const char* scheme, int bits = 0, int64_t group = -1, DType sdt = DType::f16) {
  auto f = make_format(scheme, bits, group, sdt);
  EXPECT_TRUE(f.ok()) << f.status().message();
  return *f;
}

std::vector<Format> every_format() {
  std::vector<Format> v;
  for (int b = 1; b <= 8; ++b) {
    v.push_back(fmt("int", b));
    v.push_back(fmt("uint", b, 64));
  }
  v.push_back(fmt("ternary", 0, 0));
  v.push_back(fmt("ternary5", 0, 0));
  v.push_back(fmt("ternary5", 0, 32));
  v.push_back(fmt("mxfp4"));
  v.push_back(fmt("mxint8"));
  v.push_back(fmt("nvfp4"));
  return v;
}

// ---- Element codecs ------------------------------------------------------------------------------------

TEST(E2M1, DecodesTheSpecTable) {
  const double mags[8] = {0, 0.5, 1, 1.5, 2, 3, 4, 6};
  for (int c = 0; c < 16; ++c) {
    EXPECT_EQ(e2m1_to_double(uint8_t(c)), (c & 8 ? -1 : 1) * mags[c & 7]) << c;
    EXPECT_EQ(std::signbit(e2m1_to_double(uint8_t(c))), (c & 8) != 0) << c;
  }
}

TEST(E2M1, EncodeRoundTripsEveryCode) {
  for (int c = 0; c < 16; ++c) EXPECT_EQ(double_to_e2m1(e2m1_to_double(uint8_t(c))), c) << c;
}

TEST(E2M1, EncodeIsRoundToNearestEvenAndSaturates) {
  // Brute force over a fine grid, ties included: the nearest magnitude, ties to the even code.
  for (int i = -1600; i <= 1600; ++i) {
    const double x = i / 200.0;
    const uint8_t c = double_to_e2m1(x);
    const double got = e2m1_to_double(c);
    double best = 1e9;
    for (int m = 0; m < 8; ++m) best = std::min(best, std::fabs(std::fabs(x) - e2m1_to_double(uint8_t(m))));
    EXPECT_NEAR(std::fabs(std::fabs(x) - std::fabs(got)), best, 1e-12) << x;
    for (int m = 0; m < 8; ++m) {
      if (std::fabs(std::fabs(std::fabs(x) - e2m1_to_double(uint8_t(m))) - best) < 1e-12 && m != (c & 7)) {
        EXPECT_EQ(c & 1, 0) << "tie at " << x << " must go to the even code";
      }
    }
    if (x != 0) {
      EXPECT_EQ((c & 8) != 0, x < 0) << x;
    }
  }
  EXPECT_EQ(double_to_e2m1(100.0), 7);
  EXPECT_EQ(double_to_e2m1(-1e30), 15);
  EXPECT_EQ(double_to_e2m1(INFINITY), 7);
  EXPECT_EQ(double_to_e2m1(NAN), 0);
  EXPECT_EQ(double_to_e2m1(0.25), 0);  // tie between 0 and 0.5: even code 0
  EXPECT_EQ(double_to_e2m1(0.75), 2);  // tie between 0.5 and 1: even code 2 (1.0)
  EXPECT_EQ(double_to_e2m1(5.0), 6);   // tie between 4 and 6: even code 6 (4.0)
}

TEST(E8M0, IsAPowerOfTwoOrNaN) {
  for (int e = 0; e < 255; ++e) EXPECT_EQ(e8m0_to_double(uint8_t(e)), std::ldexp(1.0, e - 127)) << e;
  EXPECT_TRUE(std::isnan(e8m0_to_double(0xff)));
}

// ---- Codes -----------------------------------------------------------------------------------------------

TEST(CodeValue, EveryCodeOfEveryFormatIsFiniteAndAsDocumented) {
  for (const Format& f : every_format()) {
    for (int c = 0; c < 256; ++c) EXPECT_TRUE(std::isfinite(code_value(f, uint8_t(c)))) << f.name() << " " << c;
  }
  // int: two's complement; 1 bit is {-1, +1}.
  EXPECT_EQ(code_value(fmt("int", 1), 0), -1);
  EXPECT_EQ(code_value(fmt("int", 1), 1), 1);
  for (int b = 2; b <= 8; ++b)
    for (int c = 0; c < (1 << b); ++c)
      EXPECT_EQ(code_value(fmt("int", b), uint8_t(c)), c < (1 << (b - 1)) ? c : c - (1 << b)) << b << " " << c;
  for (int c = 0; c < 256; ++c) EXPECT_EQ(code_value(fmt("uint", 8), uint8_t(c)), c);
  // ternary: w = bit0 - bit1, so 11 is a second zero.
  const Format t = fmt("ternary");
  EXPECT_EQ(code_value(t, 0), 0);
  EXPECT_EQ(code_value(t, 1), 1);
  EXPECT_EQ(code_value(t, 2), -1);
  EXPECT_EQ(code_value(t, 3), 0);
  for (int c = 0; c < 256; ++c) EXPECT_EQ(code_value(fmt("mxint8"), uint8_t(c)), double(int8_t(c)) / 64) << c;
}

TEST(FormatRules, NameTheParameter) {
  struct Bad {
    const char* scheme;
    int bits;
    int64_t group;
    DType sdt;
    const char* param;
  };
  for (const Bad& b : {Bad{"int", 9, -1, DType::f16, "bits"}, Bad{"ternary", 3, -1, DType::f16, "bits"},
                       Bad{"int", 4, 48, DType::f16, "group"}, Bad{"int", 4, 512, DType::f16, "group"},
                       Bad{"int", 4, 16, DType::f16, "group"}, Bad{"uint", 4, 128, DType::e4m3, "scale dtype"},
                       Bad{"mxfp4", 4, 64, DType::f16, "group"}, Bad{"mxint8", 4, -1, DType::f16, "bits"},
                       Bad{"nvfp4", 4, 32, DType::f16, "group"}, Bad{"ternary5", 4, -1, DType::f16, "bits"},
                       Bad{"ternary5", 2, 20, DType::f16, "group"}, Bad{"ternary5", 2, 64, DType::u8, "scale dtype"}}) {
    auto f = make_format(b.scheme, b.bits, b.group, b.sdt);
    ASSERT_FALSE(f.ok()) << b.scheme << " " << b.bits << " " << b.group;
    EXPECT_EQ(f.status().param(), b.param) << f.status().message();
  }
  EXPECT_FALSE(make_format("int5").ok());
  EXPECT_EQ(fmt("int").name(), "int4/g128");
  EXPECT_EQ(fmt("uint", 3, 0).name(), "uint3/channel");
  EXPECT_EQ(fmt("ternary5").name(), "ternary5/g128");
  EXPECT_EQ(fmt("nvfp4").group, 16);
  EXPECT_EQ(fmt("mxfp4").scale_dtype, DType::u8);
  EXPECT_EQ(fmt("nvfp4").scale_dtype, DType::e4m3);
}

TEST(Shapes, CoverTilesOctetsAndGroups) {
  Shapes s = shapes(fmt("int", 3, 64), 65, 100);  // 2 tiles, 13 octets, 2 groups
  EXPECT_EQ(s.weights, (std::vector<int64_t>{2, 13 * 3 * 64}));
  EXPECT_EQ(s.weight_bytes, 2 * 13 * 3 * 64);
  EXPECT_EQ(s.scales, (std::vector<int64_t>{2, 2, 64}));
  EXPECT_TRUE(s.zeros.empty());
  s = shapes(fmt("uint", 4, 0), 1, 1);
  EXPECT_EQ(s.scales, (std::vector<int64_t>{1, 1, 64}));
  EXPECT_EQ(s.zeros, s.scales);
  s = shapes(fmt("mxfp4"), 33, 101);
  EXPECT_EQ(s.weights, (std::vector<int64_t>{33, 51}));
  EXPECT_EQ(s.scales, (std::vector<int64_t>{33, 4}));
  s = shapes(fmt("nvfp4"), 3, 77);
  EXPECT_EQ(s.scales, (std::vector<int64_t>{3, 5}));
  s = shapes(fmt("mxint8"), 3, 77);
  EXPECT_EQ(s.weights, (std::vector<int64_t>{3, 77}));
  // ternary5, groups of 32 over k = 100: three groups of 7 runs (the seventh holds 2 weights) and
  // one of 4 weights in 1 run.
  s = shapes(fmt("ternary5", 0, 32), 65, 100);
  EXPECT_EQ(trit_bytes_per_row(fmt("ternary5", 0, 32), 100), 22);
  EXPECT_EQ(s.weights, (std::vector<int64_t>{2, 22 * 64}));
  EXPECT_EQ(s.scales, (std::vector<int64_t>{2, 4, 64}));
  EXPECT_EQ(shapes(fmt("ternary5", 0, 0), 1, 4096).weight_bytes, 820 * 64);  // 1.6 bits a weight
}

// ---- Layouts, pinned: a change here is a format change and bumps kLayoutVersion ---------------------------

TEST(PlanarLayout, PairBytesAreAsDocumented) {
  const Format f = fmt("int", 2, 128);
  const int64_t n = 64, k = 16;
  std::vector<uint8_t> w(size_t(shapes(f, n, k).weight_bytes), 0);
  // Row 9, column 13: octet 1, bit 5; planes 0 and 1 share the pair at byte 16*1 + 2*1 (+1).
  set_code(f, n, k, w.data(), 9, 13, 0b10);
  const int64_t octet1 = 1 * 2 * 64;
  for (size_t i = 0; i < w.size(); ++i) EXPECT_EQ(w[i], i == size_t(octet1 + 19) ? 1u << 5 : 0u) << i;
  set_code(f, n, k, w.data(), 9, 13, 0b01);
  EXPECT_EQ(w[size_t(octet1 + 18)], 1u << 5);
  EXPECT_EQ(w[size_t(octet1 + 19)], 0u);
}

TEST(PlanarLayout, OddPlaneBytesAreAsDocumented) {
  const Format f = fmt("uint", 3, 0);
  const int64_t n = 128, k = 8;
  std::vector<uint8_t> w(size_t(shapes(f, n, k).weight_bytes), 0);
  // Tile 1, row 40 (h = 1, c = 1, i = 0), column 2: the odd plane (2) is at 128 + 16 + 0 + 1.
  set_code(f, n, k, w.data(), 64 + 40, 2, 0b100);
  const int64_t tile1 = 1 * 1 * 3 * 64;
  for (size_t i = 0; i < w.size(); ++i) EXPECT_EQ(w[i], i == size_t(tile1 + 145) ? 1u << 2 : 0u) << i;
}

TEST(BlockLayout, Fp4ElementsShareBytesLowNibbleFirst) {
  const Format f = fmt("mxfp4");
  std::vector<uint8_t> w(size_t(shapes(f, 2, 5).weight_bytes), 0);  // 3 bytes per row
  set_code(f, 2, 5, w.data(), 1, 2, 0x9);
  set_code(f, 2, 5, w.data(), 1, 3, 0x4);
  EXPECT_EQ(w[3 + 1], 0x49);
  EXPECT_EQ(get_code(f, 2, 5, w.data(), 1, 2), 0x9);
}

// Every code at every position of a tile and octet, for every planar width: set, read back, and
// nothing else changes.
TEST(PlanarLayout, EveryCodeAtEveryPositionRoundTrips) {
  for (int bits = 1; bits <= 8; ++bits) {
    const Format f = fmt("uint", bits, 32);
    const int64_t n = 64, k = 8;
    std::vector<uint8_t> w(size_t(shapes(f, n, k).weight_bytes), 0);
    for (int64_t r = 0; r < n; ++r)
      for (int64_t c = 0; c < k; ++c)
        for (int code = 0; code < (1 << bits); ++code) {
          set_code(f, n, k, w.data(), r, c, uint8_t(code));
          ASSERT_EQ(get_code(f, n, k, w.data(), r, c), code) << bits << " " << r << " " << c;
          set_code(f, n, k, w.data(), r, c, 0);
        }
    for (uint8_t b : w) ASSERT_EQ(b, 0) << bits;
  }
}

// Every byte value at every byte position decodes to codes within range, and unpack/pack return
// the same bytes: the layout has no padding bits inside a tile, so random bytes are valid weights.
TEST(PlanarLayout, EveryByteIsAValidCodePattern) {
  for (int bits = 1; bits <= 8; ++bits) {
    const Format f = fmt("int", bits, 32);
    const int64_t n = 64, k = 8;
    const size_t bytes = size_t(shapes(f, n, k).weight_bytes);
    for (int v = 0; v < 256; ++v) {
      std::vector<uint8_t> w(bytes);
      for (size_t i = 0; i < bytes; ++i) w[i] = uint8_t(v + 37 * i);
      std::vector<uint8_t> codes(static_cast<size_t>(n * k)), again(bytes);
      unpack_codes(f, n, k, w.data(), codes.data());
      for (uint8_t c : codes) ASSERT_LT(c, 1 << bits);
      pack_codes(f, n, k, codes.data(), again.data());
      ASSERT_EQ(again, w) << bits << " " << v;
    }
  }
}

// ternary5: a byte is sign and magnitude of sum_i d_i 3^i; rows r and r + 32 of a tile share a
// 16-bit lane; runs restart at each group.
TEST(Ternary5Layout, BytesAreAsDocumented) {
  const Format f = fmt("ternary5", 0, 32);
  const int64_t n = 64, k = 64;  // 2 groups of 7 runs: 14 bytes a row
  std::vector<uint8_t> w(size_t(shapes(f, n, k).weight_bytes), 0);
  // Row 40 (lane 2 * 8 + 1), column 7: run 1, digit 2: v = +9.
  set_code(f, n, k, w.data(), 40, 7, 1);
  for (size_t i = 0; i < w.size(); ++i) ASSERT_EQ(w[i], i == size_t(1 * 64 + 17) ? 9 : 0) << i;
  // Column 5 (run 1, digit 0) = -1: v = 9 - 1 = 8.
  set_code(f, n, k, w.data(), 40, 5, 2);
  EXPECT_EQ(w[size_t(1 * 64 + 17)], 8);
  // Column 9 (run 1, digit 4) = -1: v = 8 - 81 = -73, sign and magnitude.
  set_code(f, n, k, w.data(), 40, 9, 2);
  EXPECT_EQ(w[size_t(1 * 64 + 17)], 0x80 | 73);
  // Row 3, column 32: the second group's first run (run 7), lane 6.
  set_code(f, n, k, w.data(), 3, 32, 2);
  EXPECT_EQ(w[size_t(7 * 64 + 6)], 0x80 | 1);
  EXPECT_EQ(get_code(f, n, k, w.data(), 40, 9), 2);
  EXPECT_EQ(get_code(f, n, k, w.data(), 40, 6), 0);
}

// Every byte decodes to five weights in {-1, 0, +1}; the canonical ones (magnitude <= 121, not -0)
// are what byte_of gives back, and the rest decode as documented (magnitude - 243, -0 = 0).
TEST(Ternary5Layout, EveryByteDecodes) {
  for (int b = 0; b < 256; ++b) {
    const Trits t = trits_of(uint8_t(b));
    int v = 0;
    for (int i = kTritsPerByte - 1; i >= 0; --i) {
      ASSERT_GE(t.d[i], -1);
      ASSERT_LE(t.d[i], 1);
      v = 3 * v + t.d[i];
    }
    const int m = b & 127, want = (b & 128 ? -1 : 1) * (m <= 121 ? m : m - 243);
    EXPECT_EQ(v, want) << b;
    if (m <= 121 && b != 0x80) {
      EXPECT_EQ(byte_of(t), b);
    }
    const Trits again = trits_of(byte_of(t));
    for (int i = 0; i < kTritsPerByte; ++i) EXPECT_EQ(again.d[i], t.d[i]) << b;
  }
}

// Every code at every position of a tile and group: set, read back (code 3, ternary's second zero,
// reads back 0), and nothing else changes.
TEST(Ternary5Layout, EveryCodeAtEveryPositionRoundTrips) {
  const Format f = fmt("ternary5", 0, 32);
  const int64_t n = 64, k = 40;
  std::vector<uint8_t> w(size_t(shapes(f, n, k).weight_bytes), 0);
  for (int64_t r = 0; r < n; ++r)
    for (int64_t c = 0; c < k; ++c)
      for (int code = 0; code < 4; ++code) {
        set_code(f, n, k, w.data(), r, c, uint8_t(code));
        ASSERT_EQ(get_code(f, n, k, w.data(), r, c), code == 3 ? 0 : code) << r << " " << c;
        ASSERT_EQ(code_value(f, get_code(f, n, k, w.data(), r, c)), code_value(f, uint8_t(code)));
        set_code(f, n, k, w.data(), r, c, 0);
      }
  for (uint8_t b : w) ASSERT_EQ(b, 0);
}

TEST(Layouts, PackUnpackRoundTripOverTails) {
  std::mt19937 rng(7);
  for (const Format& f : every_format())
    for (int64_t n : {1, 63, 64, 65, 130})
      for (int64_t k : {1, 7, 8, 9, 33, 100}) {
        std::vector<uint8_t> codes(static_cast<size_t>(n * k)), back(codes.size());
        const int width = f.planar() ? f.bits : f.bits == 4 ? 4 : 8;
        for (auto& c : codes) c = uint8_t(rng() & ((1u << width) - 1));
        if (f.scheme == Scheme::ternary5)  // canonical codes: 3 reads back as 0
          for (auto& c : codes) c = uint8_t(rng() % 3);
        std::vector<uint8_t> w(static_cast<size_t>(shapes(f, n, k).weight_bytes));
        pack_codes(f, n, k, codes.data(), w.data());
        unpack_codes(f, n, k, w.data(), back.data());
        ASSERT_EQ(back, codes) << f.name() << " " << n << "x" << k;
        for (int64_t i = 0; i < n * k; i += 17)
          ASSERT_EQ(get_code(f, n, k, w.data(), i / k, i % k), codes[size_t(i)]);
      }
}

TEST(Dequantize, AppliesScalesZerosAndGlobalScale) {
  {  // uint3, groups of 32 over k = 40: two groups, the second partial.
    const Format f = fmt("uint", 3, 32, DType::f32);
    const int64_t n = 2, k = 40;
    const Shapes s = shapes(f, n, k);
    std::vector<uint8_t> w(static_cast<size_t>(s.weight_bytes));
    std::vector<float> sc(size_t(s.scale_count), 0.0f), z(size_t(s.zero_count), 0.0f);
    for (int64_t c = 0; c < k; ++c) set_code(f, n, k, w.data(), 1, c, uint8_t(c % 8));
    sc[size_t(scale_index(f, k, 1, 0))] = 0.5f;
    sc[size_t(scale_index(f, k, 1, 1))] = -2.0f;
    z[size_t(scale_index(f, k, 1, 0))] = 1.0f;
    z[size_t(scale_index(f, k, 1, 1))] = 3.5f;
    std::vector<double> row(static_cast<size_t>(k));
    dequantize_row(f, n, k, {w.data(), sc.data(), z.data(), 1.0}, 1, row.data());
    for (int64_t c = 0; c < k; ++c) EXPECT_EQ(row[size_t(c)], c < 32 ? 0.5 * (c % 8 - 1.0) : -2.0 * (c % 8 - 3.5)) << c;
  }
  {  // nvfp4: e4m3 block scale times the tensor scale.
    const Format f = fmt("nvfp4");
    const int64_t n = 1, k = 20;
    std::vector<uint8_t> w(size_t(shapes(f, n, k).weight_bytes), 0);
    set_code(f, n, k, w.data(), 0, 17, 0xd);  // -3.0
    std::vector<uint8_t> sc = {f32_to_e4m3_bits(1.0f), f32_to_e4m3_bits(0.75f)};
    std::vector<double> row(static_cast<size_t>(k));
    dequantize_row(f, n, k, {w.data(), sc.data(), nullptr, 4.0}, 0, row.data());
    EXPECT_EQ(row[17], -3.0 * 0.75 * 4.0);
    EXPECT_EQ(row[3], 0.0);
  }
  {  // mxfp4: a NaN scale (0xff) poisons its block only.
    const Format f = fmt("mxfp4");
    std::vector<uint8_t> w(32, 0x22);  // every element 1.0
    std::vector<uint8_t> sc = {127 + 3, 0xff};
    std::vector<double> row(64);
    dequantize_row(f, 1, 64, {w.data(), sc.data(), nullptr, 1.0}, 0, row.data());
    EXPECT_EQ(row[5], 8.0);
    EXPECT_TRUE(std::isnan(row[40]));
  }
}

}  // namespace
}  // namespace tessel::quant
