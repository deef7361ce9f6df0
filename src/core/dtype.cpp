// Element-type metadata and bit-exact scalar conversions between double and every tessel dtype.
#include "tessel/core/dtype.hpp"

#include <array>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>

namespace tessel {
namespace {

// ---- Names ----------------------------------------------------------------------------------------

struct NameEntry {
  std::string_view name;
  DType type;
};

// Indexed by the enum's value in dtype_name; the static_assert below keeps the two in step.
constexpr std::array<NameEntry, 23> canonical_names{{
    {"f64", DType::f64},   {"f32", DType::f32},   {"f16", DType::f16},   {"bf16", DType::bf16},
    {"e4m3", DType::e4m3}, {"e5m2", DType::e5m2}, {"i8", DType::i8},     {"u8", DType::u8},
    {"i32", DType::i32},   {"s1", DType::s1},     {"s2", DType::s2},     {"s3", DType::s3},
    {"s4", DType::s4},     {"s5", DType::s5},     {"s6", DType::s6},     {"s7", DType::s7},
    {"u1", DType::u1},     {"u2", DType::u2},     {"u3", DType::u3},     {"u4", DType::u4},
    {"u5", DType::u5},     {"u6", DType::u6},     {"u7", DType::u7},
}};

constexpr bool names_follow_enum() {
  for (size_t i = 0; i < canonical_names.size(); ++i)
    if (static_cast<size_t>(canonical_names[i].type) != i) return false;
  return true;
}
static_assert(names_follow_enum());

constexpr std::array<NameEntry, 31> alias_names{{
    {"float64", DType::f64},       {"double", DType::f64},         {"float32", DType::f32},
    {"float", DType::f32},         {"fp32", DType::f32},           {"float16", DType::f16},
    {"half", DType::f16},          {"fp16", DType::f16},           {"bfloat16", DType::bf16},
    {"fp8_e4m3", DType::e4m3},     {"float8_e4m3fn", DType::e4m3}, {"e4m3fn", DType::e4m3},
    {"fp8_e5m2", DType::e5m2},     {"float8_e5m2", DType::e5m2},   {"int8", DType::i8},
    {"uint8", DType::u8},          {"int32", DType::i32},          {"int1", DType::s1},
    {"int2", DType::s2},           {"int3", DType::s3},            {"int4", DType::s4},
    {"int5", DType::s5},           {"int6", DType::s6},            {"int7", DType::s7},
    {"uint1", DType::u1},          {"uint2", DType::u2},           {"uint3", DType::u3},
    {"uint4", DType::u4},          {"uint5", DType::u5},           {"uint6", DType::u6},
    {"uint7", DType::u7},
}};

// ---- Generic binary floating-point formats ---------------------------------------------------------

// A binary float format narrower than double. max_finite_bits is the largest finite magnitude
// encoding, which is what differs between IEEE-like formats and e4m3fn (whose top exponent still
// holds finite values).
struct FloatFormat {
  int exp_bits;
  int man_bits;
  int bias;
  uint32_t max_finite_bits;
  bool has_inf;
  uint32_t quiet_nan_bits;  // magnitude bits of the NaN we produce
  bool nan_keeps_sign;
};

constexpr FloatFormat make_ieee(int exp_bits, int man_bits) {
  const uint32_t exp_all_ones = (1u << exp_bits) - 1u;
  return FloatFormat{
      exp_bits,
      man_bits,
      (1 << (exp_bits - 1)) - 1,
      ((exp_all_ones - 1u) << man_bits) | ((1u << man_bits) - 1u),
      true,
      (exp_all_ones << man_bits) | (1u << (man_bits - 1)),
      true,
  };
}

constexpr FloatFormat kF32 = make_ieee(8, 23);
constexpr FloatFormat kF16 = make_ieee(5, 10);
constexpr FloatFormat kBF16 = make_ieee(8, 7);
constexpr FloatFormat kE5M2 = make_ieee(5, 2);
// e4m3fn: only S.1111.111 is NaN, so 0x7e (448) is the largest finite value. NaN is always 0x7f:
// the format's NaN carries no useful sign and 0x7f is the pattern the header promises.
constexpr FloatFormat kE4M3{4, 3, 7, 0x7eu, false, 0x7fu, false};

constexpr uint32_t sign_mask(const FloatFormat& f) { return 1u << (f.exp_bits + f.man_bits); }

// Rounds x once, to nearest with ties to even, into format f. Both the float and the double entry
// points use this, so f32_to_X(x) == encode(double(x)) by construction and there is no double
// rounding. Overflow goes to infinity where the format has one and saturates to max finite
// otherwise: this is how infinities reach e4m3 too (the __NV_SATFINITE convention).
uint32_t encode_float(const FloatFormat& f, double x) {
  const uint32_t sign = std::signbit(x) ? sign_mask(f) : 0u;
  if (std::isnan(x)) return f.nan_keeps_sign ? (sign | f.quiet_nan_bits) : f.quiet_nan_bits;

  const uint32_t inf_bits = ((1u << f.exp_bits) - 1u) << f.man_bits;
  const uint32_t overflow_bits = f.has_inf ? inf_bits : f.max_finite_bits;
  const double a = std::fabs(x);
  if (a == 0.0) return sign;
  if (std::isinf(a)) return sign | overflow_bits;

  const int emin = 1 - f.bias;  // exponent of the smallest normal
  const int emax = static_cast<int>(f.max_finite_bits >> f.man_bits) - f.bias;

  // Fast path, the common case: a normal double whose binade is a normal binade of the target. Round
  // to nearest even straight from the double's bits: put the target's biased exponent above the
  // 52 significand bits, add half a target quantum minus one plus the kept lowest bit, and shift the
  // dropped bits out; a carry out of the significand bumps the exponent, as below. Integer-only,
  // so it needs no FP rounding mode either (the input generator calls this for every element).
  const auto dbits = std::bit_cast<uint64_t>(a);
  const int de = static_cast<int>(dbits >> 52) - 1023;  // a in [2^de, 2^(de+1)) for a normal double
  if (de >= emin && de <= emax) {
    const int drop = 52 - f.man_bits;
    uint64_t r = (static_cast<uint64_t>(de + f.bias) << 52) | (dbits & ((uint64_t{1} << 52) - 1));
    r += ((uint64_t{1} << (drop - 1)) - 1) + ((r >> drop) & 1u);
    r >>= drop;
    if (r > f.max_finite_bits) return sign | overflow_bits;
    return sign | static_cast<uint32_t>(r);
  }

  int frexp_exp = 0;
  (void)std::frexp(a, &frexp_exp);
  int e = frexp_exp - 1;  // a in [2^e, 2^(e+1))
  // Past 2^(emax+1) nothing can round back down to a finite value; bailing early also keeps the
  // shifts below in range for huge doubles.
  if (e > emax) return sign | overflow_bits;
  if (e < emin) e = emin;  // subnormals share the quantum of the smallest binade

  // Scaling by a power of two is exact, so q is a in units of the target's quantum, and the
  // integer/fraction split below is exact too. Inputs far below the smallest subnormal make q tiny
  // but never lose the "above half a quantum" information, since q is still an exact double.
  const double q = std::ldexp(a, f.man_bits - e);
  const double n_floor = std::floor(q);
  const double frac = q - n_floor;
  auto n = static_cast<uint64_t>(n_floor);  // < 2^(man_bits+1) <= 2^24
  if (frac > 0.5 || (frac == 0.5 && (n & 1u) != 0)) ++n;

  // With the biased exponent one below the leading bit, adding the full significand n sets the
  // exponent field: a mantissa carry bumps the exponent, and in the subnormal binade (field 0 after
  // the -1) a value that rounds up to 2^M becomes the smallest normal, all without special cases.
  const uint64_t bits = (static_cast<uint64_t>(e + f.bias - 1) << f.man_bits) + n;
  if (bits > f.max_finite_bits) return sign | overflow_bits;
  return sign | static_cast<uint32_t>(bits);
}

double decode_float(const FloatFormat& f, uint32_t bits) {
  const bool negative = (bits & sign_mask(f)) != 0;
  const uint32_t mag = bits & (sign_mask(f) - 1u);
  const uint32_t man_mask = (1u << f.man_bits) - 1u;
  const uint32_t exp_field = mag >> f.man_bits;
  const uint32_t man = mag & man_mask;
  const uint32_t exp_all_ones = (1u << f.exp_bits) - 1u;
  double v = 0.0;
  if (mag > f.max_finite_bits) {
    v = (f.has_inf && exp_field == exp_all_ones && man == 0) ? std::numeric_limits<double>::infinity()
                                                               : std::numeric_limits<double>::quiet_NaN();
  } else if (exp_field == 0) {
    v = std::ldexp(static_cast<double>(man), 1 - f.bias - f.man_bits);
  } else {
    v = std::ldexp(static_cast<double>(man | (1u << f.man_bits)),
                   static_cast<int>(exp_field) - f.bias - f.man_bits);
  }
  return negative ? -v : v;
}

const FloatFormat* narrow_format(DType t) {
  switch (t) {
    case DType::f32: return &kF32;
    case DType::f16: return &kF16;
    case DType::bf16: return &kBF16;
    case DType::e4m3: return &kE4M3;
    case DType::e5m2: return &kE5M2;
    default: return nullptr;
  }
}

// ---- Integers ---------------------------------------------------------------------------------------

struct IntRange {
  double lo;
  double hi;
};

IntRange int_range(DType t) {
  switch (t) {
    case DType::i8: return {-128.0, 127.0};
    case DType::u8: return {0.0, 255.0};
    case DType::i32: return {-2147483648.0, 2147483647.0};
    default: break;
  }
  const int b = dtype_bits(t);
  if (dtype_is_signed(t)) return {-std::ldexp(1.0, b - 1), std::ldexp(1.0, b - 1) - 1.0};
  return {0.0, std::ldexp(1.0, b) - 1.0};
}

// Written out rather than std::nearbyint so the result does not depend on the thread's FP rounding
// mode. Clamping first keeps every later step exact and in range.
double round_int(DType t, double x) {
  if (std::isnan(x)) return 0.0;
  const IntRange r = int_range(t);
  if (x <= r.lo) return r.lo;
  if (x >= r.hi) return r.hi;
  const double fl = std::floor(x);
  const double frac = x - fl;
  double out = fl;
  if (frac > 0.5 || (frac == 0.5 && std::fmod(fl, 2.0) != 0.0)) out = fl + 1.0;
  // Rounding up at the top cannot leave the range: r.hi is an integer and x < r.hi.
  return out == 0.0 ? 0.0 : out;  // no -0 from integers
}

// ---- Packed storage ---------------------------------------------------------------------------------

// Elements of width b sit at bit offset i*b and may straddle a byte boundary; only the bytes that
// actually hold the element are touched, so a store never reads or writes past its last byte.
uint32_t load_packed_bits(const void* base, int64_t index, int b) {
  const auto* bytes = static_cast<const unsigned char*>(base);
  const auto bit = static_cast<uint64_t>(index) * static_cast<uint64_t>(b);
  const uint64_t byte = bit / 8;
  const unsigned shift = static_cast<unsigned>(bit % 8);
  uint32_t word = bytes[byte];
  if (shift + static_cast<unsigned>(b) > 8) word |= static_cast<uint32_t>(bytes[byte + 1]) << 8;
  return (word >> shift) & ((1u << b) - 1u);
}

void store_packed_bits(void* base, int64_t index, int b, uint32_t value) {
  auto* bytes = static_cast<unsigned char*>(base);
  const auto bit = static_cast<uint64_t>(index) * static_cast<uint64_t>(b);
  const uint64_t byte = bit / 8;
  const unsigned shift = static_cast<unsigned>(bit % 8);
  const uint32_t mask = ((1u << b) - 1u) << shift;
  const uint32_t v = (value << shift) & mask;
  bytes[byte] = static_cast<unsigned char>((bytes[byte] & ~mask) | v);
  if (shift + static_cast<unsigned>(b) > 8) {
    bytes[byte + 1] =
        static_cast<unsigned char>((bytes[byte + 1] & ~(mask >> 8)) | (v >> 8));
  }
}

template <typename T>
T load_at(const void* base, int64_t index) {
  T v;
  std::memcpy(&v, static_cast<const unsigned char*>(base) + index * static_cast<int64_t>(sizeof(T)),
              sizeof(T));
  return v;
}

template <typename T>
void store_at(void* base, int64_t index, T v) {
  std::memcpy(static_cast<unsigned char*>(base) + index * static_cast<int64_t>(sizeof(T)), &v,
              sizeof(T));
}

}  // namespace

std::string_view dtype_name(DType t) {
  const auto i = static_cast<size_t>(t);
  return i < canonical_names.size() ? canonical_names[i].name : std::string_view("?");
}

std::optional<DType> parse_dtype(std::string_view name) {
  for (const auto& e : canonical_names)
    if (e.name == name) return e.type;
  for (const auto& e : alias_names)
    if (e.name == name) return e.type;
  return std::nullopt;
}

std::string dtype_names() {
  std::string out;
  for (const auto& e : canonical_names) {
    if (!out.empty()) out += ", ";
    out += e.name;
  }
  return out;
}

int dtype_bits(DType t) {
  switch (t) {
    case DType::f64: return 64;
    case DType::f32: return 32;
    case DType::f16:
    case DType::bf16: return 16;
    case DType::e4m3:
    case DType::e5m2:
    case DType::i8:
    case DType::u8: return 8;
    case DType::i32: return 32;
    default: break;
  }
  if (t >= DType::s1 && t <= DType::s7) return static_cast<int>(t) - static_cast<int>(DType::s1) + 1;
  return static_cast<int>(t) - static_cast<int>(DType::u1) + 1;
}

bool dtype_is_float(DType t) { return t <= DType::e5m2; }

bool dtype_is_packed(DType t) { return t >= DType::s1; }

// Floats count as signed: what callers ask is whether negative values are representable.
bool dtype_is_signed(DType t) {
  return dtype_is_float(t) || t == DType::i8 || t == DType::i32 || (t >= DType::s1 && t <= DType::s7);
}

size_t dtype_storage_bytes(DType t, int64_t count) {
  if (count <= 0) return 0;
  const auto bits = static_cast<uint64_t>(count) * static_cast<uint64_t>(dtype_bits(t));
  return static_cast<size_t>((bits + 7) / 8);
}

uint16_t f32_to_f16_bits(float x) { return static_cast<uint16_t>(encode_float(kF16, x)); }
float f16_bits_to_f32(uint16_t h) { return static_cast<float>(decode_float(kF16, h)); }
uint16_t f32_to_bf16_bits(float x) { return static_cast<uint16_t>(encode_float(kBF16, x)); }
float bf16_bits_to_f32(uint16_t h) { return static_cast<float>(decode_float(kBF16, h)); }
uint8_t f32_to_e4m3_bits(float x) { return static_cast<uint8_t>(encode_float(kE4M3, x)); }
float e4m3_bits_to_f32(uint8_t b) { return static_cast<float>(decode_float(kE4M3, b)); }
uint8_t f32_to_e5m2_bits(float x) { return static_cast<uint8_t>(encode_float(kE5M2, x)); }
float e5m2_bits_to_f32(uint8_t b) { return static_cast<float>(decode_float(kE5M2, b)); }

double dtype_round(DType t, double x) {
  if (t == DType::f64) return x;
  if (const FloatFormat* f = narrow_format(t)) return decode_float(*f, encode_float(*f, x));
  return round_int(t, x);
}

namespace {
// Every value of an 8-bit float, decoded once: references and checks decode billions of elements,
// and decode_float's ldexp made load_as_double most of a gemm reference's time.
const std::array<double, 256>& table8(const FloatFormat& f) {
  auto make = [](const FloatFormat& g) {
    std::array<double, 256> t{};
    for (uint32_t b = 0; b < 256; ++b) t[b] = decode_float(g, b);
    return t;
  };
  static const std::array<double, 256> e4m3 = make(kE4M3), e5m2 = make(kE5M2);
  return &f == &kE4M3 ? e4m3 : e5m2;
}
}  // namespace

double load_as_double(DType t, const void* base, int64_t index) {
  switch (t) {
    case DType::f64: return load_at<double>(base, index);
    case DType::f32: return static_cast<double>(load_at<float>(base, index));
    case DType::f16: return decode_float(kF16, load_at<uint16_t>(base, index));
    // bf16 is the top half of an f32 (NaN, infinities and subnormals included): exact.
    case DType::bf16: return static_cast<double>(std::bit_cast<float>(uint32_t(load_at<uint16_t>(base, index)) << 16));
    case DType::e4m3: return table8(kE4M3)[load_at<uint8_t>(base, index)];
    case DType::e5m2: return table8(kE5M2)[load_at<uint8_t>(base, index)];
    case DType::i8: return load_at<int8_t>(base, index);
    case DType::u8: return load_at<uint8_t>(base, index);
    case DType::i32: return load_at<int32_t>(base, index);
    default: break;
  }
  const int b = dtype_bits(t);
  const uint32_t raw = load_packed_bits(base, index, b);
  if (dtype_is_signed(t) && (raw >> (b - 1)) != 0) {
    return static_cast<double>(raw) - std::ldexp(1.0, b);  // two's complement
  }
  return static_cast<double>(raw);
}

void store_from_double(DType t, void* base, int64_t index, double x) {
  switch (t) {
    case DType::f64: store_at<double>(base, index, x); return;
    // Through the bit pattern rather than a float cast: out-of-range double->float is undefined.
    case DType::f32: store_at<uint32_t>(base, index, encode_float(kF32, x)); return;
    case DType::f16: store_at<uint16_t>(base, index, static_cast<uint16_t>(encode_float(kF16, x))); return;
    case DType::bf16: store_at<uint16_t>(base, index, static_cast<uint16_t>(encode_float(kBF16, x))); return;
    case DType::e4m3: store_at<uint8_t>(base, index, static_cast<uint8_t>(encode_float(kE4M3, x))); return;
    case DType::e5m2: store_at<uint8_t>(base, index, static_cast<uint8_t>(encode_float(kE5M2, x))); return;
    default: break;
  }
  const double r = round_int(t, x);
  switch (t) {
    case DType::i8: store_at<int8_t>(base, index, static_cast<int8_t>(r)); return;
    case DType::u8: store_at<uint8_t>(base, index, static_cast<uint8_t>(r)); return;
    case DType::i32: store_at<int32_t>(base, index, static_cast<int32_t>(r)); return;
    default: break;
  }
  const int b = dtype_bits(t);
  // r is in range, so the two's complement bits are r mod 2^b.
  const auto wrapped = static_cast<uint32_t>(static_cast<int32_t>(r)) & ((1u << b) - 1u);
  store_packed_bits(base, index, b, wrapped);
}

}  // namespace tessel
