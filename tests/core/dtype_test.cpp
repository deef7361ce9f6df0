// Exhaustive and randomized checks of dtype metadata, float/integer encodings and packed storage.
#include "tessel/core/dtype.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <random>
#include <string>
#include <vector>

namespace tessel {
namespace {

constexpr int kNumDTypes = 23;
constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

DType dtype_at(int i) { return static_cast<DType>(i); }

// Same value, including the sign of zero; any NaN matches any NaN.
bool same_value(double a, double b) {
  if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b);
  return std::bit_cast<uint64_t>(a) == std::bit_cast<uint64_t>(b);
}

// ---- An independent model of the small float formats ----------------------------------------------

struct Fmt {
  const char* name;
  DType type;
  int exp_bits;
  int man_bits;
  int bias;
  bool ieee;  // false: e4m3fn (no infinities, only S.1111.111 is NaN)
  uint32_t (*enc32)(float);
  float (*dec32)(uint32_t);

  int width() const { return 1 + exp_bits + man_bits; }
  uint32_t patterns() const { return 1u << width(); }
  uint32_t sign_bit() const { return 1u << (exp_bits + man_bits); }
  // Patterns 0..max_pos() are the non-negative finite values, in increasing order.
  uint32_t max_pos() const {
    const uint32_t top = (1u << exp_bits) - 1u;
    return ieee ? (top << man_bits) - 1u : (top << man_bits) | ((1u << man_bits) - 2u);
  }
};

const Fmt kFormats[] = {
    {"f16", DType::f16, 5, 10, 15, true, [](float x) -> uint32_t { return f32_to_f16_bits(x); },
     [](uint32_t b) { return f16_bits_to_f32(static_cast<uint16_t>(b)); }},
    {"bf16", DType::bf16, 8, 7, 127, true, [](float x) -> uint32_t { return f32_to_bf16_bits(x); },
     [](uint32_t b) { return bf16_bits_to_f32(static_cast<uint16_t>(b)); }},
    {"e4m3", DType::e4m3, 4, 3, 7, false, [](float x) -> uint32_t { return f32_to_e4m3_bits(x); },
     [](uint32_t b) { return e4m3_bits_to_f32(static_cast<uint8_t>(b)); }},
    {"e5m2", DType::e5m2, 5, 2, 15, true, [](float x) -> uint32_t { return f32_to_e5m2_bits(x); },
     [](uint32_t b) { return e5m2_bits_to_f32(static_cast<uint8_t>(b)); }},
};

// Straight from the definition: (-1)^s * 2^(e-bias) * (1 + m/2^M), subnormals 2^(1-bias) * m/2^M.
double ref_decode(const Fmt& f, uint32_t bits) {
  const double sign = (bits & f.sign_bit()) ? -1.0 : 1.0;
  const int e = static_cast<int>((bits >> f.man_bits) & ((1u << f.exp_bits) - 1u));
  const uint32_t m = bits & ((1u << f.man_bits) - 1u);
  const int e_top = (1 << f.exp_bits) - 1;
  const double frac = static_cast<double>(m) / std::ldexp(1.0, f.man_bits);
  if (f.ieee && e == e_top) return m == 0 ? sign * kInf : kNaN;
  if (!f.ieee && e == e_top && m == (1u << f.man_bits) - 1u) return kNaN;
  if (e == 0) return sign * std::ldexp(frac, 1 - f.bias);
  return sign * std::ldexp(1.0 + frac, e - f.bias);
}

bool ref_is_nan(const Fmt& f, uint32_t bits) { return std::isnan(ref_decode(f, bits)); }

// The non-negative finite values of a format, indexed by bit pattern.
std::vector<double> finite_table(const Fmt& f) {
  std::vector<double> v;
  for (uint32_t p = 0; p <= f.max_pos(); ++p) v.push_back(ref_decode(f, p));
  return v;
}

// Nearest-even rounding by search over the value table, as an oracle independent of the encoder.
uint32_t ref_encode(const Fmt& f, const std::vector<double>& table, double x) {
  const uint32_t sign = std::signbit(x) ? f.sign_bit() : 0u;
  const double a = std::fabs(x);
  const uint32_t top = f.max_pos();
  const double max = table[top];
  if (a > max) {
    if (!f.ieee) return sign | top;
    // The next step above max would be 2^(emax+1), whose mantissa is even, so the tie goes up.
    const double threshold = max + (max - table[top - 1]) / 2;
    return a >= threshold ? (sign | (top + 1)) : (sign | top);
  }
  const auto hi_it = std::upper_bound(table.begin(), table.end(), a);
  if (hi_it == table.end()) return sign | top;  // a == max
  const auto hi = static_cast<uint32_t>(hi_it - table.begin());
  const uint32_t lo = hi - 1;
  const double mid = (table[lo] + table[hi]) / 2;  // exact: the significands are short
  if (a < mid) return sign | lo;
  if (a > mid) return sign | hi;
  return sign | ((lo % 2 == 0) ? lo : hi);
}

uint32_t enc_via_store(const Fmt& f, double x) {
  unsigned char buf[2] = {0, 0};
  store_from_double(f.type, buf, 0, x);
  if (f.width() == 8) return buf[0];
  uint16_t v;
  std::memcpy(&v, buf, 2);
  return v;
}

double dec_via_load(const Fmt& f, uint32_t bits) {
  unsigned char buf[2];
  if (f.width() == 8) {
    buf[0] = static_cast<unsigned char>(bits);
  } else {
    const auto v = static_cast<uint16_t>(bits);
    std::memcpy(buf, &v, 2);
  }
  return load_as_double(f.type, buf, 0);
}

// ---- Metadata --------------------------------------------------------------------------------------

TEST(DTypeMeta, BitsAndClasses) {
  const int bits[kNumDTypes] = {64, 32, 16, 16, 8, 8, 8, 8, 32, 1, 2, 3, 4, 5, 6, 7, 1, 2, 3, 4, 5, 6, 7};
  for (int i = 0; i < kNumDTypes; ++i) {
    const DType t = dtype_at(i);
    SCOPED_TRACE(std::string(dtype_name(t)));
    EXPECT_EQ(dtype_bits(t), bits[i]);
    EXPECT_EQ(dtype_is_float(t), i <= static_cast<int>(DType::e5m2));
    EXPECT_EQ(dtype_is_packed(t), i >= static_cast<int>(DType::s1));
    const bool is_unsigned = t == DType::u8 || t >= DType::u1;
    EXPECT_EQ(dtype_is_signed(t), !is_unsigned);
  }
}

TEST(DTypeMeta, StorageBytes) {
  EXPECT_EQ(dtype_storage_bytes(DType::s3, 5), 2u);
  EXPECT_EQ(dtype_storage_bytes(DType::s3, 8), 3u);
  EXPECT_EQ(dtype_storage_bytes(DType::s3, 9), 4u);
  EXPECT_EQ(dtype_storage_bytes(DType::u1, 8), 1u);
  EXPECT_EQ(dtype_storage_bytes(DType::u1, 9), 2u);
  EXPECT_EQ(dtype_storage_bytes(DType::u4, 3), 2u);
  EXPECT_EQ(dtype_storage_bytes(DType::s7, 8), 7u);
  EXPECT_EQ(dtype_storage_bytes(DType::u7, 1), 1u);
  EXPECT_EQ(dtype_storage_bytes(DType::u5, 1000), 625u);
  EXPECT_EQ(dtype_storage_bytes(DType::f32, 3), 12u);
  EXPECT_EQ(dtype_storage_bytes(DType::f64, 3), 24u);
  EXPECT_EQ(dtype_storage_bytes(DType::bf16, 7), 14u);
  EXPECT_EQ(dtype_storage_bytes(DType::e4m3, 5), 5u);
  EXPECT_EQ(dtype_storage_bytes(DType::i32, 1), 4u);
  EXPECT_EQ(dtype_storage_bytes(DType::s2, 0), 0u);
  EXPECT_EQ(dtype_storage_bytes(DType::f16, 0), 0u);
  for (int i = 0; i < kNumDTypes; ++i) {
    const DType t = dtype_at(i);
    for (int64_t n = 0; n < 40; ++n)
      EXPECT_EQ(dtype_storage_bytes(t, n), static_cast<size_t>((n * dtype_bits(t) + 7) / 8)) << n;
  }
}

// ---- Names -----------------------------------------------------------------------------------------

TEST(DTypeNames, CanonicalRoundTrip) {
  const char* expected[kNumDTypes] = {"f64", "f32", "f16", "bf16", "e4m3", "e5m2", "i8", "u8",
                                      "i32", "s1",  "s2",  "s3",   "s4",   "s5",   "s6", "s7",
                                      "u1",  "u2",  "u3",  "u4",   "u5",   "u6",   "u7"};
  std::string joined;
  for (int i = 0; i < kNumDTypes; ++i) {
    const DType t = dtype_at(i);
    EXPECT_EQ(dtype_name(t), expected[i]);
    const auto parsed = parse_dtype(dtype_name(t));
    ASSERT_TRUE(parsed.has_value()) << expected[i];
    EXPECT_EQ(*parsed, t);
    if (i) joined += ", ";
    joined += expected[i];
  }
  EXPECT_EQ(dtype_names(), joined);
}

TEST(DTypeNames, Aliases) {
  const std::pair<const char*, DType> aliases[] = {
      {"float64", DType::f64},       {"double", DType::f64},       {"float32", DType::f32},
      {"float", DType::f32},         {"fp32", DType::f32},         {"float16", DType::f16},
      {"half", DType::f16},          {"fp16", DType::f16},         {"bfloat16", DType::bf16},
      {"fp8_e4m3", DType::e4m3},     {"float8_e4m3fn", DType::e4m3}, {"e4m3fn", DType::e4m3},
      {"fp8_e5m2", DType::e5m2},     {"float8_e5m2", DType::e5m2}, {"int8", DType::i8},
      {"uint8", DType::u8},          {"int32", DType::i32},        {"int1", DType::s1},
      {"int2", DType::s2},           {"int3", DType::s3},          {"int4", DType::s4},
      {"int5", DType::s5},           {"int6", DType::s6},          {"int7", DType::s7},
      {"uint1", DType::u1},          {"uint2", DType::u2},         {"uint3", DType::u3},
      {"uint4", DType::u4},          {"uint5", DType::u5},         {"uint6", DType::u6},
      {"uint7", DType::u7},
  };
  for (const auto& [name, t] : aliases) {
    const auto parsed = parse_dtype(name);
    ASSERT_TRUE(parsed.has_value()) << name;
    EXPECT_EQ(*parsed, t) << name;
  }
}

TEST(DTypeNames, RejectsUnknown) {
  for (const char* bad : {"bf17", "", "F32", "Float32", "FP16", "BF16", " f32", "f32 ", "f32\n", "s8",
                          "u8x", "s0", "u0", "int0", "int64", "uint16", "float8", "e4m3fnuz", "fp8",
                          "i16", "f8", "e5m3", "bfloat", "int", "uint"}) {
    EXPECT_FALSE(parse_dtype(bad).has_value()) << '"' << bad << '"';
  }
  EXPECT_FALSE(parse_dtype(std::string_view("f32\0", 4)).has_value());
}

// ---- Small floats: decoding and round trips ---------------------------------------------------------

TEST(DTypeFloat, KnownEncodings) {
  EXPECT_EQ(f16_bits_to_f32(0x3c00), 1.0f);
  EXPECT_EQ(f16_bits_to_f32(0xc000), -2.0f);
  EXPECT_EQ(f16_bits_to_f32(0x7bff), 65504.0f);
  EXPECT_EQ(f16_bits_to_f32(0x0400), std::ldexp(1.0f, -14));
  EXPECT_EQ(f16_bits_to_f32(0x0001), std::ldexp(1.0f, -24));
  EXPECT_EQ(f16_bits_to_f32(0x3555), 0.333251953125f);
  EXPECT_EQ(bf16_bits_to_f32(0x3f80), 1.0f);
  EXPECT_EQ(bf16_bits_to_f32(0x4049), 3.140625f);
  EXPECT_EQ(bf16_bits_to_f32(0x7f7f), std::ldexp(255.0f, 120));
  EXPECT_EQ(bf16_bits_to_f32(0x0001), std::ldexp(1.0f, -133));
  EXPECT_EQ(e4m3_bits_to_f32(0x38), 1.0f);
  EXPECT_EQ(e4m3_bits_to_f32(0x7e), 448.0f);
  EXPECT_EQ(e4m3_bits_to_f32(0xfe), -448.0f);
  EXPECT_EQ(e4m3_bits_to_f32(0x78), 256.0f);  // the top exponent holds finite values in e4m3fn
  EXPECT_EQ(e4m3_bits_to_f32(0x08), std::ldexp(1.0f, -6));
  EXPECT_EQ(e4m3_bits_to_f32(0x01), std::ldexp(1.0f, -9));
  EXPECT_TRUE(std::isnan(e4m3_bits_to_f32(0x7f)));
  EXPECT_TRUE(std::isnan(e4m3_bits_to_f32(0xff)));
  EXPECT_EQ(e5m2_bits_to_f32(0x3c), 1.0f);
  EXPECT_EQ(e5m2_bits_to_f32(0x7b), 57344.0f);
  EXPECT_EQ(e5m2_bits_to_f32(0x7c), std::numeric_limits<float>::infinity());
  EXPECT_EQ(e5m2_bits_to_f32(0xfc), -std::numeric_limits<float>::infinity());
  EXPECT_EQ(e5m2_bits_to_f32(0x01), std::ldexp(1.0f, -16));
  EXPECT_TRUE(std::isnan(e5m2_bits_to_f32(0x7d)));

  EXPECT_EQ(f32_to_f16_bits(1.0f), 0x3c00);
  EXPECT_EQ(f32_to_f16_bits(-0.0f), 0x8000);
  EXPECT_EQ(f32_to_bf16_bits(1.0f), 0x3f80);
  EXPECT_EQ(f32_to_bf16_bits(3.14159265f), 0x4049);
  EXPECT_EQ(f32_to_e4m3_bits(-1.0f), 0xb8);
  EXPECT_EQ(f32_to_e5m2_bits(0.5f), 0x38);
}

TEST(DTypeFloat, ExhaustiveDecode) {
  for (const Fmt& f : kFormats) {
    SCOPED_TRACE(f.name);
    // Decode every pattern from a buffer too, so load_as_double's indexing is covered.
    std::vector<unsigned char> buf(static_cast<size_t>(f.patterns()) * static_cast<size_t>(f.width() / 8));
    for (uint32_t p = 0; p < f.patterns(); ++p) {
      if (f.width() == 8) {
        buf[p] = static_cast<unsigned char>(p);
      } else {
        const auto v = static_cast<uint16_t>(p);
        std::memcpy(&buf[2 * p], &v, 2);
      }
    }
    int failures = 0;
    for (uint32_t p = 0; p < f.patterns() && failures < 10; ++p) {
      const double want = ref_decode(f, p);
      const double got32 = static_cast<double>(f.dec32(p));
      const double got64 = load_as_double(f.type, buf.data(), p);
      if (!same_value(got32, want) || !same_value(got64, want)) {
        ++failures;
        ADD_FAILURE() << "pattern 0x" << std::hex << p << std::dec << ": want " << want << ", f32 decoder "
                      << got32 << ", load_as_double " << got64;
      }
    }
  }
}

TEST(DTypeFloat, ExhaustiveRoundTrip) {
  for (const Fmt& f : kFormats) {
    SCOPED_TRACE(f.name);
    int failures = 0;
    for (uint32_t p = 0; p < f.patterns() && failures < 10; ++p) {
      const double v = ref_decode(f, p);
      const uint32_t via_f32 = f.enc32(f.dec32(p));
      const uint32_t via_store = enc_via_store(f, v);
      const double rounded = dtype_round(f.type, v);
      bool ok;
      if (std::isnan(v)) {
        ok = ref_is_nan(f, via_f32) && ref_is_nan(f, via_store) && std::isnan(rounded);
      } else {
        ok = via_f32 == p && via_store == p && same_value(rounded, v) &&
             same_value(dec_via_load(f, via_store), v);
      }
      if (!ok) {
        ++failures;
        ADD_FAILURE() << "pattern 0x" << std::hex << p << " -> f32 path 0x" << via_f32 << ", store path 0x"
                      << via_store << std::dec << ", dtype_round " << rounded;
      }
    }
  }
}

TEST(DTypeFloat, NaNEncodings) {
  const float nanf = std::numeric_limits<float>::quiet_NaN();
  for (const Fmt& f : kFormats) {
    SCOPED_TRACE(f.name);
    for (const double n : {kNaN, -kNaN, std::numeric_limits<double>::signaling_NaN()}) {
      EXPECT_TRUE(ref_is_nan(f, enc_via_store(f, n)));
      EXPECT_TRUE(std::isnan(dtype_round(f.type, n)));
    }
    EXPECT_TRUE(ref_is_nan(f, f.enc32(nanf)));
    EXPECT_TRUE(ref_is_nan(f, f.enc32(-nanf)));
  }
  // Quiet NaN patterns: the top mantissa bit is set.
  EXPECT_EQ(f32_to_f16_bits(nanf) & 0x7e00u, 0x7e00u);
  EXPECT_EQ(f32_to_bf16_bits(nanf) & 0x7fc0u, 0x7fc0u);
  EXPECT_EQ(f32_to_e5m2_bits(nanf) & 0x7eu, 0x7eu);
  // e4m3fn has one NaN per sign; we always produce 0x7f.
  EXPECT_EQ(f32_to_e4m3_bits(nanf), 0x7f);
  EXPECT_EQ(f32_to_e4m3_bits(-nanf), 0x7f);
  EXPECT_EQ(enc_via_store(kFormats[2], -kNaN), 0x7fu);
}

// ---- Small floats: rounding -----------------------------------------------------------------------

// For every pair of adjacent finite values: the midpoint ties to the even pattern, and the nearest
// representable points on either side of it go to the nearer value. The double path uses the very
// next double, which a float-then-narrow implementation would collapse onto the midpoint.
TEST(DTypeFloat, MidpointsTieToEven) {
  for (const Fmt& f : kFormats) {
    SCOPED_TRACE(f.name);
    int failures = 0;
    for (uint32_t lo = 0; lo < f.max_pos() && failures < 10; ++lo) {
      const uint32_t hi = lo + 1;
      const double vlo = ref_decode(f, lo);
      const double vhi = ref_decode(f, hi);
      const double mid = (vlo + vhi) / 2;
      const uint32_t even = (lo % 2 == 0) ? lo : hi;
      const auto midf = static_cast<float>(mid);
      ASSERT_EQ(static_cast<double>(midf), mid) << "midpoint must be exact in float";
      const float abovef = std::nextafter(midf, std::numeric_limits<float>::infinity());
      const float belowf = std::nextafter(midf, 0.0f);
      const double above = std::nextafter(mid, kInf);
      const double below = std::nextafter(mid, 0.0);

      for (const uint32_t s : {0u, f.sign_bit()}) {
        const double sg = s ? -1.0 : 1.0;
        const float sgf = s ? -1.0f : 1.0f;
        const uint32_t got[] = {
            f.enc32(sgf * midf),          f.enc32(sgf * abovef),         f.enc32(sgf * belowf),
            enc_via_store(f, sg * mid),   enc_via_store(f, sg * above),  enc_via_store(f, sg * below),
        };
        const uint32_t want[] = {s | even, s | hi, s | lo, s | even, s | hi, s | lo};
        const double rounded[] = {dtype_round(f.type, sg * mid), dtype_round(f.type, sg * above),
                                  dtype_round(f.type, sg * below)};
        bool ok = std::equal(std::begin(got), std::end(got), std::begin(want));
        for (int k = 0; k < 3; ++k) ok = ok && same_value(rounded[k], ref_decode(f, want[3 + k]));
        if (!ok) {
          ++failures;
          ADD_FAILURE() << "between 0x" << std::hex << (s | lo) << " and 0x" << (s | hi) << std::dec
                        << " (mid " << sg * mid << "): f32 mid/above/below " << got[0] << "/" << got[1] << "/"
                        << got[2] << ", double " << got[3] << "/" << got[4] << "/" << got[5]
                        << ", dtype_round " << rounded[0] << "/" << rounded[1] << "/" << rounded[2];
        }
      }
    }
  }
}

TEST(DTypeFloat, NoDoubleRounding) {
  // Just above the f16 midpoint between 1 and 1+2^-10; through float it would become the midpoint
  // itself and tie down to 1.
  const double x = 1.0 + std::ldexp(1.0, -11) + std::ldexp(1.0, -40);
  ASSERT_EQ(static_cast<double>(static_cast<float>(x)), 1.0 + std::ldexp(1.0, -11));
  EXPECT_EQ(dtype_round(DType::f16, x), 1.0 + std::ldexp(1.0, -10));
  EXPECT_EQ(dtype_round(DType::f16, -x), -(1.0 + std::ldexp(1.0, -10)));
  EXPECT_EQ(enc_via_store(kFormats[0], x), 0x3c01u);
  EXPECT_EQ(f32_to_f16_bits(static_cast<float>(x)), 0x3c00u);  // the float really did lose it
  // Same for bf16 and the fp8s.
  EXPECT_EQ(dtype_round(DType::bf16, 1.0 + std::ldexp(1.0, -8) + std::ldexp(1.0, -45)), 1.0 + std::ldexp(1.0, -7));
  EXPECT_EQ(dtype_round(DType::e4m3, 1.0 + std::ldexp(1.0, -4) + std::ldexp(1.0, -40)), 1.125);
  EXPECT_EQ(dtype_round(DType::e5m2, 1.0 + std::ldexp(1.0, -3) + std::ldexp(1.0, -40)), 1.25);
  // Below the smallest subnormal: half of it ties to zero, a hair more rounds up.
  EXPECT_EQ(dtype_round(DType::f16, std::ldexp(1.0, -25)), 0.0);
  EXPECT_EQ(dtype_round(DType::f16, std::ldexp(1.0, -25) + std::ldexp(1.0, -70)), std::ldexp(1.0, -24));
  EXPECT_EQ(dtype_round(DType::e4m3, std::ldexp(1.0, -10) + std::ldexp(1.0, -60)), std::ldexp(1.0, -9));
  EXPECT_TRUE(std::signbit(dtype_round(DType::e5m2, -std::ldexp(1.0, -30))));
  EXPECT_EQ(dtype_round(DType::bf16, 5e-324), 0.0);  // smallest double subnormal
}

// Random doubles spanning each format's range (subnormals and overflow included), checked against
// the table-search oracle; the float entry point must agree with the double one on float inputs.
TEST(DTypeFloat, RandomAgainstOracle) {
  std::mt19937_64 rng(20240601);
  for (const Fmt& f : kFormats) {
    SCOPED_TRACE(f.name);
    const auto table = finite_table(f);
    const int emin = 1 - f.bias - f.man_bits - 3;
    const int emax = (1 << f.exp_bits) - f.bias + 1;
    std::uniform_int_distribution<int> exp_dist(emin, emax);
    int failures = 0;
    for (int i = 0; i < 100000 && failures < 10; ++i) {
      const uint64_t r = rng();
      const double mant = 1.0 + static_cast<double>(r >> 12) * 0x1p-52;
      const double x = ((r & 1) ? -1.0 : 1.0) * std::ldexp(mant, exp_dist(rng));
      const uint32_t want = ref_encode(f, table, x);
      const uint32_t got = enc_via_store(f, x);
      // bf16's overflow range lies beyond float's, where the cast would be undefined.
      const bool fits_float = std::fabs(x) <= std::numeric_limits<float>::max();
      const float xf = fits_float ? static_cast<float>(x) : std::numeric_limits<float>::infinity();
      const uint32_t want_f = ref_encode(f, table, static_cast<double>(xf));
      const uint32_t got_f = f.enc32(xf);
      if (got != want || got_f != want_f || !same_value(dtype_round(f.type, x), ref_decode(f, want))) {
        ++failures;
        ADD_FAILURE() << "x=" << x << " want 0x" << std::hex << want << " got 0x" << got << "; float " << xf
                      << " want 0x" << want_f << " got 0x" << got_f;
      }
    }
  }
}

TEST(DTypeFloat, SaturationAndOverflow) {
  const float inff = std::numeric_limits<float>::infinity();
  // e4m3fn saturates: 464 is the 448..480 midpoint (480 would be the NaN pattern) and ties to 448.
  for (const double v : {448.0, 449.0, 463.99, 464.0, 464.01, 480.0, 1000.0, 1e9, 1e300, kInf}) {
    EXPECT_EQ(enc_via_store(kFormats[2], v), 0x7eu) << v;
    EXPECT_EQ(enc_via_store(kFormats[2], -v), 0xfeu) << v;
    EXPECT_EQ(dtype_round(DType::e4m3, v), 448.0) << v;
    EXPECT_EQ(dtype_round(DType::e4m3, -v), -448.0) << v;
    if (v < 1e30 || std::isinf(v)) {
      EXPECT_EQ(f32_to_e4m3_bits(static_cast<float>(v)), 0x7e) << v;
      EXPECT_EQ(f32_to_e4m3_bits(static_cast<float>(-v)), 0xfe) << v;
    }
  }
  EXPECT_EQ(f32_to_e4m3_bits(432.0f), 0x7e);  // 416..448 midpoint, 448 is even
  EXPECT_EQ(f32_to_e4m3_bits(431.0f), 0x7d);

  // e5m2: max 57344, the 57344..65536 midpoint 61440 ties up to infinity.
  EXPECT_EQ(f32_to_e5m2_bits(57344.0f), 0x7b);
  EXPECT_EQ(f32_to_e5m2_bits(61439.0f), 0x7b);
  EXPECT_EQ(f32_to_e5m2_bits(61440.0f), 0x7c);
  EXPECT_EQ(f32_to_e5m2_bits(-61440.0f), 0xfc);
  EXPECT_EQ(f32_to_e5m2_bits(1e9f), 0x7c);
  EXPECT_EQ(f32_to_e5m2_bits(inff), 0x7c);
  EXPECT_EQ(f32_to_e5m2_bits(-inff), 0xfc);
  EXPECT_EQ(dtype_round(DType::e5m2, 61440.0), kInf);
  EXPECT_EQ(dtype_round(DType::e5m2, std::nextafter(61440.0, 0.0)), 57344.0);
  EXPECT_EQ(dtype_round(DType::e5m2, -1e300), -kInf);

  // f16: 65520 is the 65504..65536 midpoint.
  EXPECT_EQ(f32_to_f16_bits(65504.0f), 0x7bff);
  EXPECT_EQ(f32_to_f16_bits(65519.99f), 0x7bff);
  EXPECT_EQ(f32_to_f16_bits(65520.0f), 0x7c00);
  EXPECT_EQ(f32_to_f16_bits(-65520.0f), 0xfc00);
  EXPECT_EQ(f32_to_f16_bits(1e9f), 0x7c00);
  EXPECT_EQ(f32_to_f16_bits(inff), 0x7c00);
  EXPECT_EQ(dtype_round(DType::f16, std::nextafter(65520.0, 0.0)), 65504.0);
  EXPECT_EQ(dtype_round(DType::f16, 65520.0), kInf);
  EXPECT_EQ(dtype_round(DType::f16, 1e300), kInf);

  // bf16: max (2 - 2^-7) * 2^127; FLT_MAX is past the midpoint and overflows.
  const double bf16_max = std::ldexp(255.0, 120);
  const double bf16_mid = std::ldexp(511.0, 119);
  EXPECT_EQ(dtype_round(DType::bf16, bf16_max), bf16_max);
  EXPECT_EQ(dtype_round(DType::bf16, std::nextafter(bf16_mid, 0.0)), bf16_max);
  EXPECT_EQ(dtype_round(DType::bf16, bf16_mid), kInf);
  EXPECT_EQ(dtype_round(DType::bf16, -bf16_mid), -kInf);
  EXPECT_EQ(f32_to_bf16_bits(std::numeric_limits<float>::max()), 0x7f80);
  EXPECT_EQ(f32_to_bf16_bits(static_cast<float>(bf16_max)), 0x7f7f);
  EXPECT_EQ(f32_to_bf16_bits(inff), 0x7f80);
  EXPECT_EQ(f32_to_bf16_bits(-inff), 0xff80);
  EXPECT_EQ(dtype_round(DType::bf16, 1e300), kInf);
}

// ---- f32 / f64 -------------------------------------------------------------------------------------

TEST(DTypeFloat, F32AndF64) {
  std::mt19937_64 rng(7);
  std::uniform_int_distribution<int> exp_dist(-160, 126);  // stay inside float's range
  for (int i = 0; i < 50000; ++i) {
    const uint64_t r = rng();
    const double x = ((r & 1) ? -1.0 : 1.0) * std::ldexp(1.0 + static_cast<double>(r >> 12) * 0x1p-52, exp_dist(rng));
    // In range, so the hardware conversion is defined and rounds to nearest even.
    ASSERT_EQ(std::bit_cast<uint64_t>(dtype_round(DType::f32, x)),
              std::bit_cast<uint64_t>(static_cast<double>(static_cast<float>(x))))
        << x;
    float stored[3] = {1.0f, 2.0f, 3.0f};
    store_from_double(DType::f32, stored, 1, x);
    ASSERT_EQ(stored[1], static_cast<float>(x));
    ASSERT_EQ(stored[0], 1.0f);
    ASSERT_EQ(stored[2], 3.0f);
    ASSERT_EQ(load_as_double(DType::f32, stored, 1), static_cast<double>(static_cast<float>(x)));
    EXPECT_TRUE(same_value(dtype_round(DType::f64, x), x));
  }
  const double flt_max = std::numeric_limits<float>::max();
  const double f32_mid = flt_max + std::ldexp(1.0, 103);
  EXPECT_EQ(dtype_round(DType::f32, std::nextafter(f32_mid, 0.0)), flt_max);
  EXPECT_EQ(dtype_round(DType::f32, f32_mid), kInf);
  EXPECT_EQ(dtype_round(DType::f32, -1e300), -kInf);
  EXPECT_EQ(dtype_round(DType::f32, 1e-300), 0.0);
  EXPECT_TRUE(std::signbit(dtype_round(DType::f32, -1e-300)));
  EXPECT_TRUE(std::isnan(dtype_round(DType::f32, kNaN)));
  EXPECT_EQ(dtype_round(DType::f32, std::ldexp(1.0, -150)), 0.0);  // tie to even: zero
  EXPECT_EQ(dtype_round(DType::f32, std::nextafter(std::ldexp(1.0, -150), 1.0)), std::ldexp(1.0, -149));

  double d[3] = {0, 0, 0};
  for (const double v : {0.1, -0.0, 1e300, 5e-324, kInf}) {
    store_from_double(DType::f64, d, 2, v);
    EXPECT_TRUE(same_value(load_as_double(DType::f64, d, 2), v));
    EXPECT_EQ(d[1], 0.0);
  }
  store_from_double(DType::f64, d, 0, kNaN);
  EXPECT_TRUE(std::isnan(load_as_double(DType::f64, d, 0)));
  EXPECT_TRUE(std::isnan(dtype_round(DType::f64, kNaN)));
}

// ---- Integers --------------------------------------------------------------------------------------

struct IntSpec {
  DType type;
  int64_t lo;
  int64_t hi;
};

std::vector<IntSpec> int_specs() {
  std::vector<IntSpec> v = {{DType::i8, -128, 127}, {DType::u8, 0, 255}, {DType::i32, INT32_MIN, INT32_MAX}};
  for (int b = 1; b <= 7; ++b) {
    v.push_back({static_cast<DType>(static_cast<int>(DType::s1) + b - 1), -(int64_t{1} << (b - 1)),
                 (int64_t{1} << (b - 1)) - 1});
    v.push_back({static_cast<DType>(static_cast<int>(DType::u1) + b - 1), 0, (int64_t{1} << b) - 1});
  }
  return v;
}

// k/4 rounded to nearest, ties to even, computed in integers.
int64_t round_quarter(int64_t k) {
  const int64_t n = (k >= 0) ? k / 4 : -((-k + 3) / 4);  // floor(k/4)
  const int64_t r = k - 4 * n;                            // 0..3
  if (r < 2) return n;
  if (r > 2) return n + 1;
  return (n % 2 == 0) ? n : n + 1;
}

// Stores x as element 1 of a small buffer and reads it back, to exercise storage as well as rounding.
double store_load(DType t, double x) {
  unsigned char buf[16] = {};
  store_from_double(t, buf, 1, x);
  return load_as_double(t, buf, 1);
}

TEST(DTypeInt, QuarterStepsRoundAndSaturate) {
  for (const IntSpec& s : int_specs()) {
    SCOPED_TRACE(std::string(dtype_name(s.type)));
    int failures = 0;
    auto check = [&](int64_t k) {
      const double x = static_cast<double>(k) / 4.0;
      const int64_t want = std::clamp(round_quarter(k), s.lo, s.hi);
      const double r = dtype_round(s.type, x);
      const double l = store_load(s.type, x);
      if (r != static_cast<double>(want) || l != static_cast<double>(want) || (r == 0.0 && std::signbit(r))) {
        if (++failures <= 10) ADD_FAILURE() << "x=" << x << " want " << want << " got " << r << " / " << l;
      }
    };
    for (int64_t k = -1200; k <= 1200; ++k) check(k);
    for (int64_t k = -20; k <= 20; ++k) {
      check(4 * s.lo + k);
      check(4 * s.hi + k);
    }
  }
}

TEST(DTypeInt, SpecialValues) {
  for (const IntSpec& s : int_specs()) {
    SCOPED_TRACE(std::string(dtype_name(s.type)));
    const auto lo = static_cast<double>(s.lo);
    const auto hi = static_cast<double>(s.hi);
    EXPECT_EQ(dtype_round(s.type, kNaN), 0.0);
    EXPECT_EQ(store_load(s.type, kNaN), 0.0);
    EXPECT_EQ(store_load(s.type, -kNaN), 0.0);
    for (const double big : {1e300, kInf, 4294967296.0, 1e10}) {
      EXPECT_EQ(dtype_round(s.type, big), hi);
      EXPECT_EQ(store_load(s.type, big), hi);
      EXPECT_EQ(dtype_round(s.type, -big), lo);
      EXPECT_EQ(store_load(s.type, -big), lo);
    }
    EXPECT_EQ(store_load(s.type, hi + 0.5), hi);
    EXPECT_EQ(store_load(s.type, lo - 0.5), lo);
    EXPECT_EQ(store_load(s.type, 0.49999999999999994), 0.0);
    EXPECT_EQ(store_load(s.type, -0.0), 0.0);
    // Integers have no negative zero.
    EXPECT_FALSE(std::signbit(dtype_round(s.type, -0.25)));
    EXPECT_FALSE(std::signbit(dtype_round(s.type, -0.0)));
    EXPECT_FALSE(std::signbit(store_load(s.type, -0.0)));
  }
  EXPECT_EQ(dtype_round(DType::i8, 2.5), 2.0);
  EXPECT_EQ(dtype_round(DType::i8, 3.5), 4.0);
  EXPECT_EQ(dtype_round(DType::i8, -2.5), -2.0);
  EXPECT_EQ(dtype_round(DType::i8, -3.5), -4.0);
  EXPECT_EQ(dtype_round(DType::i8, 0.5), 0.0);
  EXPECT_EQ(dtype_round(DType::i8, 1.5), 2.0);
  EXPECT_EQ(dtype_round(DType::i8, 2.5000000000000004), 3.0);
  EXPECT_EQ(dtype_round(DType::u8, 254.5), 254.0);
  EXPECT_EQ(dtype_round(DType::u8, 255.5), 255.0);
  EXPECT_EQ(dtype_round(DType::s4, 7.49), 7.0);
  EXPECT_EQ(dtype_round(DType::s4, 7.5), 7.0);
  EXPECT_EQ(dtype_round(DType::s4, -8.5), -8.0);
  EXPECT_EQ(dtype_round(DType::s1, 0.7), 0.0);
  EXPECT_EQ(dtype_round(DType::s1, -0.7), -1.0);
  EXPECT_EQ(dtype_round(DType::u1, 0.5), 0.0);
  EXPECT_EQ(dtype_round(DType::u1, 0.51), 1.0);
  EXPECT_EQ(dtype_round(DType::i32, 2147483646.5), 2147483646.0);
  EXPECT_EQ(dtype_round(DType::i32, 2147483647.5), 2147483647.0);
  EXPECT_EQ(dtype_round(DType::i32, -2147483647.5), -2147483648.0);
  EXPECT_EQ(dtype_round(DType::i32, -2147483648.5), -2147483648.0);
  EXPECT_EQ(dtype_round(DType::i32, 123456789.5), 123456790.0);
  EXPECT_EQ(store_load(DType::i32, -1e9), -1e9);
}

// ---- Packed storage --------------------------------------------------------------------------------

// Shadow model of the layout: element i's bit j is global bit i*b+j, i.e. bit (o%8) of byte o/8.
void shadow_store(std::vector<unsigned char>& mem, int64_t i, int b, uint32_t value) {
  for (int j = 0; j < b; ++j) {
    const int64_t o = i * b + j;
    const auto bit = static_cast<unsigned char>(1u << (o % 8));
    auto& byte = mem[static_cast<size_t>(o / 8)];
    byte = ((value >> j) & 1u) ? static_cast<unsigned char>(byte | bit) : static_cast<unsigned char>(byte & ~bit);
  }
}

int64_t shadow_load(const std::vector<unsigned char>& mem, int64_t i, int b, bool is_signed) {
  int64_t v = 0;
  for (int j = 0; j < b; ++j) {
    const int64_t o = i * b + j;
    if ((mem[static_cast<size_t>(o / 8)] >> (o % 8)) & 1) v |= int64_t{1} << j;
  }
  if (is_signed && (v >> (b - 1))) v -= int64_t{1} << b;
  return v;
}

TEST(DTypePacked, RandomStoresLeaveNeighboursIntact) {
  std::mt19937_64 rng(99);
  for (const IntSpec& s : int_specs()) {
    if (!dtype_is_packed(s.type)) continue;
    SCOPED_TRACE(std::string(dtype_name(s.type)));
    const int b = dtype_bits(s.type);
    const bool sgn = dtype_is_signed(s.type);
    constexpr int64_t count = 203;
    const size_t guard = 3;
    std::vector<unsigned char> mem(dtype_storage_bytes(s.type, count) + guard);
    for (auto& c : mem) c = static_cast<unsigned char>(rng());
    std::vector<unsigned char> shadow = mem;

    for (int64_t i = 0; i < count; ++i)
      ASSERT_EQ(load_as_double(s.type, mem.data(), i), static_cast<double>(shadow_load(shadow, i, b, sgn))) << i;

    std::uniform_int_distribution<int64_t> index_dist(0, count - 1);
    std::uniform_int_distribution<int64_t> value_dist(s.lo - 3, s.hi + 3);
    for (int n = 0; n < 3000; ++n) {
      const int64_t i = index_dist(rng);
      const int64_t v = value_dist(rng);
      const double x = static_cast<double>(v) + ((n % 3 == 0) ? 0.25 : (n % 3 == 1) ? -0.25 : 0.0);
      store_from_double(s.type, mem.data(), i, x);
      const int64_t clamped = std::clamp(v, s.lo, s.hi);
      shadow_store(shadow, i, b, static_cast<uint32_t>(clamped) & ((1u << b) - 1u));
      ASSERT_EQ(mem, shadow) << "after storing " << x << " at " << i;
    }
    for (int64_t i = 0; i < count; ++i)
      ASSERT_EQ(load_as_double(s.type, mem.data(), i), static_cast<double>(shadow_load(shadow, i, b, sgn))) << i;
  }
}

TEST(DTypePacked, KnownLayouts) {
  unsigned char b4[1] = {0};
  store_from_double(DType::s4, b4, 0, 1.0);
  store_from_double(DType::s4, b4, 1, -1.0);
  EXPECT_EQ(b4[0], 0xf1);

  // u3 values 0..7 fill three bytes, straddling both byte boundaries.
  unsigned char b3[4] = {0, 0, 0, 0x5a};
  for (int i = 0; i < 8; ++i) store_from_double(DType::u3, b3, i, i);
  EXPECT_EQ(b3[0], 0x88);
  EXPECT_EQ(b3[1], 0xc6);
  EXPECT_EQ(b3[2], 0xfa);
  EXPECT_EQ(b3[3], 0x5a);
  for (int i = 0; i < 8; ++i) EXPECT_EQ(load_as_double(DType::u3, b3, i), i);

  unsigned char b1[2] = {0, 0};
  store_from_double(DType::u1, b1, 9, 1.0);
  store_from_double(DType::s1, b1, 0, -1.0);
  EXPECT_EQ(b1[0], 0x01);
  EXPECT_EQ(b1[1], 0x02);
  EXPECT_EQ(load_as_double(DType::s1, b1, 9), -1.0);

  // s7 element 1 spans bits 7..13.
  unsigned char b7[2] = {0, 0};
  store_from_double(DType::s7, b7, 1, -64.0);  // 1000000b
  EXPECT_EQ(b7[0], 0x00);
  EXPECT_EQ(b7[1], 0x20);
}

// Buffers sized exactly: an element that ends on a byte boundary must not touch the next byte
// (the sanitizer build catches an out-of-bounds read or write here).
TEST(DTypePacked, ExactSizeBuffers) {
  for (const IntSpec& s : int_specs()) {
    if (!dtype_is_packed(s.type)) continue;
    for (int64_t count = 1; count <= 16; ++count) {
      auto mem = std::make_unique<unsigned char[]>(dtype_storage_bytes(s.type, count));
      for (int64_t i = 0; i < count; ++i) store_from_double(s.type, mem.get(), i, static_cast<double>(s.hi));
      for (int64_t i = 0; i < count; ++i)
        ASSERT_EQ(load_as_double(s.type, mem.get(), i), static_cast<double>(s.hi)) << dtype_name(s.type) << " " << i;
    }
  }
}

// Byte-sized and wider types: index scaling, and neighbours untouched.
TEST(DTypeStorage, WholeElementIndexing) {
  for (int ti = 0; ti < kNumDTypes; ++ti) {
    const DType t = dtype_at(ti);
    if (dtype_is_packed(t)) continue;
    SCOPED_TRACE(std::string(dtype_name(t)));
    const size_t bytes = dtype_storage_bytes(t, 8);
    std::vector<unsigned char> mem(bytes, 0xcd);
    const std::vector<unsigned char> before = mem;
    store_from_double(t, mem.data(), 5, 3.0);
    EXPECT_EQ(load_as_double(t, mem.data(), 5), 3.0);
    const size_t w = bytes / 8;
    for (size_t k = 0; k < bytes; ++k) {
      if (k / w != 5) {
        EXPECT_EQ(mem[k], before[k]) << k;
      }
    }
  }
}

}  // namespace
}  // namespace tessel
