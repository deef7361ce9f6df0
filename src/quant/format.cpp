// Low-bit weight formats: names, validation, packed layouts (docs/formats.md) and reference decoding.
#include "tessel/quant/format.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <limits>

namespace tessel::quant {

std::string_view scheme_name(Scheme s) {
  switch (s) {
    case Scheme::int_sym: return "int";
    case Scheme::int_asym: return "uint";
    case Scheme::ternary: return "ternary";
    case Scheme::mxfp4: return "mxfp4";
    case Scheme::mxint8: return "mxint8";
    case Scheme::nvfp4: return "nvfp4";
    case Scheme::ternary5: return "ternary5";
  }
  return "?";
}

std::string Format::name() const {
  std::string s(scheme_name(scheme));
  if (scheme == Scheme::int_sym || scheme == Scheme::int_asym) s += std::to_string(bits);
  if (tiled()) s += group == 0 ? "/channel" : "/g" + std::to_string(group);
  return s;
}

namespace {
int default_bits(Scheme s) {
  switch (s) {
    case Scheme::ternary:
    case Scheme::ternary5: return 2;
    case Scheme::mxint8: return 8;
    default: return 4;
  }
}
int64_t block_size(Scheme s) { return s == Scheme::nvfp4 ? 16 : 32; }
}  // namespace

Status Format::validate() const {
  const std::string op = "quant";
  if (tiled()) {
    if ((scheme == Scheme::ternary || scheme == Scheme::ternary5) && bits != 2)
      return Status::invalid(op, "bits", std::string(scheme_name(scheme)) + " codes are ternary codes (2 bits)");
    if (bits < 1 || bits > 8) return Status::invalid(op, "bits", "int and uint codes have 1 to 8 bits");
    if (group != 0 && (group < 32 || group > 256 || group % 32 != 0))
      return Status::invalid(op, "group", std::string(scheme_name(scheme)) + " groups are 32, 64, 96, ... 256 weights, or per-channel");
    if (scale_dtype != DType::f16 && scale_dtype != DType::bf16 && scale_dtype != DType::f32)
      return Status::invalid(op, "scale dtype", std::string(scheme_name(scheme)) + " scales are f16, bf16 or f32");
    return {};
  }
  if (bits != default_bits(scheme))
    return Status::invalid(op, "bits", std::string(scheme_name(scheme)) + " stores " + std::to_string(default_bits(scheme)) + "-bit elements");
  if (group != block_size(scheme))
    return Status::invalid(op, "group", std::string(scheme_name(scheme)) + " has fixed blocks of " + std::to_string(block_size(scheme)));
  const DType want = scheme == Scheme::nvfp4 ? DType::e4m3 : DType::u8;
  if (scale_dtype != want)
    return Status::invalid(op, "scale dtype", std::string(scheme_name(scheme)) + " scales are " +
                                                  (scheme == Scheme::nvfp4 ? "e4m3" : "E8M0 (stored as u8)"));
  return {};
}

Result<Format> make_format(std::string_view scheme, int bits, int64_t group, DType scale_dtype) {
  Format f;
  bool found = false;
  for (Scheme s : {Scheme::int_sym, Scheme::int_asym, Scheme::ternary, Scheme::ternary5, Scheme::mxfp4, Scheme::mxint8,
                   Scheme::nvfp4})
    if (scheme_name(s) == scheme) {
      f.scheme = s;
      found = true;
    }
  if (!found)
    return Status::invalid("quant", "format", "unknown format '" + std::string(scheme) +
                                                  "' (known: int|uint|ternary|ternary5|mxfp4|mxint8|nvfp4)");
  f.bits = bits == 0 ? default_bits(f.scheme) : bits;
  if (f.tiled()) {
    f.group = group < 0 ? 128 : group;
    f.scale_dtype = scale_dtype;
  } else {
    f.group = group < 0 ? block_size(f.scheme) : group;
    f.scale_dtype = f.scheme == Scheme::nvfp4 ? DType::e4m3 : DType::u8;
  }
  TESSEL_RETURN_IF_ERROR(f.validate());
  return f;
}

Shapes shapes(const Format& f, int64_t n, int64_t k) {
  Shapes s;
  const int64_t g = f.groups(k);
  if (f.planar()) {
    const int64_t tiles = (n + kTileRows - 1) / kTileRows, octets = (k + kOctet - 1) / kOctet;
    s.weights = {tiles, octets * f.bits * kTileRows};
    s.weight_bytes = tiles * octets * f.bits * kTileRows;
    s.scales = {tiles, g, kTileRows};
    s.scale_count = tiles * g * kTileRows;
    if (f.has_zeros()) {
      s.zeros = s.scales;
      s.zero_count = s.scale_count;
    }
    return s;
  }
  if (f.scheme == Scheme::ternary5) {
    const int64_t tiles = (n + kTileRows - 1) / kTileRows, row_bytes = trit_bytes_per_row(f, k);
    s.weights = {tiles, row_bytes * kTileRows};
    s.weight_bytes = tiles * row_bytes * kTileRows;
    s.scales = {tiles, g, kTileRows};
    s.scale_count = tiles * g * kTileRows;
    return s;
  }
  const int64_t row_bytes = f.bits == 4 ? (k + 1) / 2 : k;
  s.weights = {n, row_bytes};
  s.weight_bytes = n * row_bytes;
  s.scales = {n, g};
  s.scale_count = n * g;
  return s;
}

int64_t scale_index(const Format& f, int64_t k, int64_t row, int64_t g) {
  if (f.tiled()) return ((row / kTileRows) * f.groups(k) + g) * kTileRows + row % kTileRows;
  return row * f.groups(k) + g;
}

// ---- ternary5 ---------------------------------------------------------------------------------------

int64_t trit_bytes_per_row(const Format& f, int64_t k) {
  const int64_t len = f.group_len(k), full = k / len;
  return full * trit_runs(len) + trit_runs(k - full * len);
}

namespace {

// Digits of every byte, built once.
const std::array<Trits, 256>& trit_table() {
  static const std::array<Trits, 256> table = [] {
    std::array<Trits, 256> t{};
    for (int b = 0; b < 256; ++b) {
      const int m = b & 127;
      int v = m <= 121 ? m : m - 243;
      if (b & 128) v = -v;
      for (int i = 0; i < kTritsPerByte; ++i) {
        const int r = ((v % 3) + 3) % 3, d = r == 2 ? -1 : r;
        t[size_t(b)].d[i] = int8_t(d);
        v = (v - d) / 3;
      }
    }
    return t;
  }();
  return table;
}

// Where weight (row, col) lives: its byte's offset and its digit within the byte.
struct TritPos {
  int64_t byte;
  int digit;
};
TritPos trit_pos(const Format& f, int64_t k, int64_t row, int64_t col) {
  const int64_t len = f.group_len(k), g = col / len, in = col - g * len;
  const int64_t run = g * trit_runs(len) + in / kTritsPerByte;
  return {((row / kTileRows) * trit_bytes_per_row(f, k) + run) * kTileRows + trit_lane(row % kTileRows), int(in % kTritsPerByte)};
}

uint8_t trit_code(int d) { return d > 0 ? 1 : d < 0 ? 2 : 0; }

}  // namespace

Trits trits_of(uint8_t byte) { return trit_table()[byte]; }

uint8_t byte_of(const Trits& t) {
  int v = 0;
  for (int i = kTritsPerByte - 1; i >= 0; --i) v = 3 * v + t.d[i];
  return uint8_t(v < 0 ? 0x80 | -v : v);
}

// ---- Planar byte positions ---------------------------------------------------------------------------
// Within a tile and octet, plane pairs (2j, 2j+1) take 128 bytes each: byte 16c + 2i + p holds plane
// 2j+p of row 8c+i. An odd last plane takes 64 bytes: byte 16c + 2i + h holds row 32h + 8c + i. Bit t
// of a byte is weight 8*octet + t. docs/formats.md explains why (16-byte table lanes, pmaddubsw pairs).

namespace {

int64_t plane_byte_in_octet(int bits, int64_t r, int b) {
  if (b < bits / 2 * 2) return (b / 2) * 128 + 16 * (r / 8) + 2 * (r % 8) + (b % 2);
  const int64_t h = r / 32, rr = r % 32;
  return int64_t(bits - 1) * 64 + 16 * (rr / 8) + 2 * (rr % 8) + h;
}

int64_t octet_base(const Format& f, int64_t k, int64_t row, int64_t octet) {
  const int64_t octets = (k + kOctet - 1) / kOctet;
  return ((row / kTileRows) * octets + octet) * f.bits * kTileRows;
}

}  // namespace

uint8_t get_code(const Format& f, int64_t, int64_t k, const uint8_t* w, int64_t row, int64_t col) {
  if (f.scheme == Scheme::ternary5) {
    const TritPos p = trit_pos(f, k, row, col);
    return trit_code(trits_of(w[p.byte]).d[p.digit]);
  }
  if (f.planar()) {
    const int64_t base = octet_base(f, k, row, col / kOctet), r = row % kTileRows;
    uint8_t code = 0;
    for (int b = 0; b < f.bits; ++b) code |= uint8_t(((w[base + plane_byte_in_octet(f.bits, r, b)] >> (col % kOctet)) & 1) << b);
    return code;
  }
  if (f.bits == 4) {
    const uint8_t byte = w[row * ((k + 1) / 2) + col / 2];
    return col % 2 ? uint8_t(byte >> 4) : uint8_t(byte & 0xf);
  }
  return w[row * k + col];
}

void set_code(const Format& f, int64_t, int64_t k, uint8_t* w, int64_t row, int64_t col, uint8_t code) {
  if (f.scheme == Scheme::ternary5) {
    const TritPos p = trit_pos(f, k, row, col);
    Trits t = trits_of(w[p.byte]);
    t.d[p.digit] = int8_t((code & 1) - ((code >> 1) & 1));
    w[p.byte] = byte_of(t);
    return;
  }
  if (f.planar()) {
    const int64_t base = octet_base(f, k, row, col / kOctet), r = row % kTileRows;
    const uint8_t bit = uint8_t(1u << (col % kOctet));
    for (int b = 0; b < f.bits; ++b) {
      uint8_t& byte = w[base + plane_byte_in_octet(f.bits, r, b)];
      byte = uint8_t((code >> b) & 1 ? byte | bit : byte & ~bit);
    }
    return;
  }
  if (f.bits == 4) {
    uint8_t& byte = w[row * ((k + 1) / 2) + col / 2];
    byte = col % 2 ? uint8_t((byte & 0x0f) | (code & 0xf) << 4) : uint8_t((byte & 0xf0) | (code & 0xf));
    return;
  }
  w[row * k + col] = code;
}

void get_row_codes(const Format& f, int64_t n, int64_t k, const uint8_t* w, int64_t row, uint8_t* codes) {
  if (f.scheme == Scheme::ternary5) {
    // One byte per run of five: decode each once.
    const int64_t len = f.group_len(k);
    for (int64_t g0 = 0; g0 < k; g0 += len)
      for (int64_t c0 = g0; c0 < std::min(k, g0 + len); c0 += kTritsPerByte) {
        const TritPos p = trit_pos(f, k, row, c0);
        const Trits t = trits_of(w[p.byte]);
        for (int64_t c = c0; c < std::min({k, g0 + len, c0 + kTritsPerByte}); ++c) codes[c] = trit_code(t.d[c - c0]);
      }
    return;
  }
  if (!f.planar()) {
    for (int64_t c = 0; c < k; ++c) codes[c] = get_code(f, n, k, w, row, c);
    return;
  }
  // One byte per plane per octet: read each once and spread its 8 bits.
  const int64_t r = row % kTileRows;
  std::array<int64_t, 8> pos{};
  for (int b = 0; b < f.bits; ++b) pos[size_t(b)] = plane_byte_in_octet(f.bits, r, b);
  const int64_t octets = (k + kOctet - 1) / kOctet;
  for (int64_t o = 0; o < octets; ++o) {
    const uint8_t* base = w + octet_base(f, k, row, o);
    uint8_t oct[kOctet] = {};
    for (int b = 0; b < f.bits; ++b) {
      const unsigned byte = base[pos[size_t(b)]];
      for (int t = 0; t < kOctet; ++t) oct[t] = uint8_t(oct[t] | ((byte >> t) & 1u) << b);
    }
    for (int64_t t = 0; t < kOctet && o * kOctet + t < k; ++t) codes[o * kOctet + t] = oct[t];
  }
}

void pack_codes(const Format& f, int64_t n, int64_t k, const uint8_t* codes, uint8_t* weights) {
  const Shapes s = shapes(f, n, k);
  std::memset(weights, 0, size_t(s.weight_bytes));
  for (int64_t r = 0; r < n; ++r)
    for (int64_t c = 0; c < k; ++c) set_code(f, n, k, weights, r, c, codes[r * k + c]);
}

void unpack_codes(const Format& f, int64_t n, int64_t k, const uint8_t* weights, uint8_t* codes) {
  for (int64_t r = 0; r < n; ++r) get_row_codes(f, n, k, weights, r, codes + r * k);
}

// ---- Values -------------------------------------------------------------------------------------------

double e2m1_to_double(uint8_t code) {
  static constexpr double kMag[8] = {0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0};
  const double m = kMag[code & 7];
  return code & 8 ? -m : m;
}

uint8_t double_to_e2m1(double x) {
  if (std::isnan(x)) return 0;
  const uint8_t sign = std::signbit(x) ? 8 : 0;
  const double a = std::fabs(x);
  if (a >= 6.0) return uint8_t(sign | 7);  // saturate (also where a - 4 and a - 6 round equal)
  // The nearest of the 8 magnitudes; on a tie the even code (mantissa bit 0) wins.
  uint8_t best = 0;
  double best_err = std::numeric_limits<double>::infinity();
  for (uint8_t c = 0; c < 8; ++c) {
    const double err = std::fabs(a - e2m1_to_double(c));
    if (err < best_err || (err == best_err && (c & 1) == 0)) {
      best = c;
      best_err = err;
    }
  }
  return uint8_t(sign | best);
}

double e8m0_to_double(uint8_t e) {
  if (e == 0xff) return std::numeric_limits<double>::quiet_NaN();
  return std::ldexp(1.0, int(e) - 127);
}

double code_value(const Format& f, uint8_t code) {
  switch (f.scheme) {
    case Scheme::int_sym: {
      if (f.bits == 1) return code & 1 ? 1.0 : -1.0;
      const int q = code & ((1 << f.bits) - 1);
      return q >= (1 << (f.bits - 1)) ? q - (1 << f.bits) : q;
    }
    case Scheme::int_asym: return code & ((1 << f.bits) - 1);
    case Scheme::ternary:
    case Scheme::ternary5: return double(code & 1) - double((code >> 1) & 1);
    case Scheme::mxfp4:
    case Scheme::nvfp4: return e2m1_to_double(code & 0xf);
    case Scheme::mxint8: return double(int8_t(code)) / 64.0;
  }
  return 0;
}

double load_scale(const Format& f, const void* scales, int64_t index) {
  if (f.scale_dtype == DType::u8 && !f.tiled()) return e8m0_to_double(static_cast<const uint8_t*>(scales)[index]);
  return load_as_double(f.scale_dtype, scales, index);
}

void dequantize_row(const Format& f, int64_t n, int64_t k, const PackedView& p, int64_t row, double* out) {
  std::vector<uint8_t> codes(static_cast<size_t>(k));
  get_row_codes(f, n, k, p.weights, row, codes.data());
  std::array<double, 256> value{};
  for (int c = 0; c < 256; ++c) value[size_t(c)] = code_value(f, uint8_t(c));
  const int64_t len = f.group_len(k);
  for (int64_t g = 0; g * len < k; ++g) {
    const int64_t idx = scale_index(f, k, row, g);
    const double s = load_scale(f, p.scales, idx) * (f.has_global_scale() ? p.global_scale : 1.0);
    const double z = f.has_zeros() ? load_as_double(f.scale_dtype, p.zeros, idx) : 0.0;
    const int64_t end = std::min(k, (g + 1) * len);
    for (int64_t c = g * len; c < end; ++c) out[c] = s * (value[codes[size_t(c)]] - z);
  }
}

}  // namespace tessel::quant
