// Low-bit weight formats: what each one stores, its packed layout (docs/formats.md), and decoding.
//
// A weight matrix is W[N, K] (an LLM weight: y = x W^T). Every format stores codes plus scales along
// K; the value of one weight is scale * value(code) (minus a zero point for uint). Two families:
//
//  - planar (int, uint, ternary): codes of 1..8 bits, group-wise or per-channel scales. Codes are
//    stored as bit planes in 64-row tiles, the layout a table-lookup (T-MAC style) kernel reads
//    directly; see docs/formats.md ("planar v1").
//  - ternary5: ternary codes, five weights a byte (3^5 = 243 <= 256: 1.6 bits a weight against
//    ternary's 2), with ternary's scales; a table-lookup kernel reads a byte as one index. See
//    docs/formats.md ("ternary5 v1").
//  - block (mxfp4, mxint8, nvfp4): OCP MX and NVIDIA NVFP4 blocks, stored row-major with one scale
//    per 32 (MX) or 16 (NV) elements.
//
// Every code of every format decodes to a finite value, so any byte pattern is a valid weight
// tensor; only the scales can hold non-finite values (E8M0 0xff and e4m3 0x7f/0xff are NaN).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tessel/core/dtype.hpp"
#include "tessel/core/status.hpp"

namespace tessel::quant {

// Version of the packed layouts documented in docs/formats.md. A change to any byte order bumps it.
inline constexpr int kLayoutVersion = 1;

enum class Scheme : uint8_t {
  int_sym,   // "int":     signed codes, symmetric: w = s * q (1 bit: q in {-1, +1})
  int_asym,  // "uint":    unsigned codes with a zero point: w = s * (q - z)
  ternary,   // "ternary": 2-bit codes, w = s * (bit0 - bit1) in {-1, 0, +1}
  mxfp4,     // OCP MXFP4: e2m1 elements, E8M0 scale per 32
  mxint8,    // OCP MXINT8: int8 elements (implicit 2^-6), E8M0 scale per 32
  nvfp4,     // NVIDIA NVFP4: e2m1 elements, e4m3 scale per 16, f32 scale per tensor
  ternary5,  // "ternary5": ternary's codes and scales, five weights a byte in base 3
};

std::string_view scheme_name(Scheme s);

// Rows per planar tile and weights per planar byte (one bit plane of 8 consecutive weights).
inline constexpr int64_t kTileRows = 64;
inline constexpr int64_t kOctet = 8;

struct Format {
  Scheme scheme = Scheme::int_sym;
  int bits = 4;          // stored bits per weight (code width)
  int64_t group = 128;   // weights per scale along K; 0 = one scale per row (per-channel)
  DType scale_dtype = DType::f16;  // f16/bf16/f32 for planar; u8 (E8M0) for MX; e4m3 for NVFP4

  // Codes in bit planes (int, uint, ternary): the layout the plane kernels read.
  bool planar() const { return scheme == Scheme::int_sym || scheme == Scheme::int_asym || scheme == Scheme::ternary; }
  // Scales per 64-row tile ([T, G, 64] of f16, bf16 or f32) and planar group rules: the planar
  // formats and ternary5.
  bool tiled() const { return planar() || scheme == Scheme::ternary5; }
  bool has_zeros() const { return scheme == Scheme::int_asym; }
  bool has_global_scale() const { return scheme == Scheme::nvfp4; }
  // Weights that share one scale, for a row of length k.
  int64_t group_len(int64_t k) const { return group == 0 ? k : group; }
  // Scales (and zero points) per row.
  int64_t groups(int64_t k) const { return (k + group_len(k) - 1) / group_len(k); }
  // "int4", "uint3", "ternary", "ternary5", "mxfp4", "mxint8", "nvfp4", with "/g128" or "/channel"
  // for the tiled ones.
  std::string name() const;
  // Checks the combination (bits for the scheme, group sizes, scale dtype).
  Status validate() const;
};

// Builds a format from a scheme name and options. bits 0 = the scheme's default (4 for int/uint),
// group -1 = the default (128 for planar, fixed for block formats), 0 = per-channel.
Result<Format> make_format(std::string_view scheme, int bits = 0, int64_t group = -1,
                           DType scale_dtype = DType::f16);

// Shapes of the stored tensors for an [n, k] matrix. Planar: weights [T, O*B*64] (T = ceil(n/64)
// tiles, O = ceil(k/8) octets), scales and zeros [T, G, 64]; ternary5: weights [T, R*64] (R bytes
// a row: trit_bytes_per_row), scales [T, G, 64]; block: weights [n, bytes per row], scales [n, G].
struct Shapes {
  std::vector<int64_t> weights, scales, zeros;
  int64_t weight_bytes = 0, scale_count = 0, zero_count = 0;
};
Shapes shapes(const Format& f, int64_t n, int64_t k);

// Element index of the scale (and zero point) for row `row`, group `g`.
int64_t scale_index(const Format& f, int64_t k, int64_t row, int64_t g);

// ---- ternary5 ---------------------------------------------------------------------------------------
// Each scale group of a row is stored in runs of five weights (the last run of a group may be
// short; its missing weights are zero), one byte a run: v = sum_i d_i 3^i over the run's weights
// d_i in {-1, 0, +1}, as sign (bit 7) and magnitude |v| <= 121. Every byte decodes: a magnitude of
// 122..127 reads as that value minus 243 (a sixth digit, dropped), and 0x80 as zero.
inline constexpr int64_t kTritsPerByte = 5;
// Bytes (runs) for `len` weights of one group.
inline int64_t trit_runs(int64_t len) { return (len + kTritsPerByte - 1) / kTritsPerByte; }
// Bytes per row: the runs of every group.
int64_t trit_bytes_per_row(const Format& f, int64_t k);
// The byte of row r (of a 64-row tile) within each run's 64 bytes: rows r and r + 32 share a 16-bit
// lane, so that the kernel's split of a lane into low and high bytes keeps rows in order.
inline int64_t trit_lane(int64_t r) { return r < 32 ? 2 * r : 2 * (r - 32) + 1; }
// The five weights of a stored byte, first weight first.
struct Trits {
  int8_t d[kTritsPerByte];
};
Trits trits_of(uint8_t byte);
// The byte that stores these weights (canonical: magnitude <= 121, and +0 for all zeros).
uint8_t byte_of(const Trits& t);

// ---- Codes ------------------------------------------------------------------------------------------

// The code of weight (row, col) and its inverse. Codes are the low `bits` bits of a byte. ternary5
// uses ternary's codes and reads back the canonical one (0, 1 or 2: code 3, a second zero, is
// stored as zero and reads back 0).
uint8_t get_code(const Format& f, int64_t n, int64_t k, const uint8_t* weights, int64_t row, int64_t col);
void set_code(const Format& f, int64_t n, int64_t k, uint8_t* weights, int64_t row, int64_t col, uint8_t code);
// All codes of one row (k of them), faster than get_code per element.
void get_row_codes(const Format& f, int64_t n, int64_t k, const uint8_t* weights, int64_t row, uint8_t* codes);
// Packs codes[n*k] (row-major, one per byte) into the format's weight bytes (padding is zero), and back.
void pack_codes(const Format& f, int64_t n, int64_t k, const uint8_t* codes, uint8_t* weights);
void unpack_codes(const Format& f, int64_t n, int64_t k, const uint8_t* weights, uint8_t* codes);

// The value of a code before scaling (for uint: before subtracting the zero point). Finite for every
// code of every format.
double code_value(const Format& f, uint8_t code);

// ---- Element formats of the block schemes -----------------------------------------------------------

// e2m1 (FP4): sign, 2 exponent bits (bias 1), 1 mantissa bit; magnitudes 0, 0.5, 1, 1.5, 2, 3, 4, 6.
double e2m1_to_double(uint8_t code);
// Round to nearest, ties to even; saturates to +-6; NaN encodes as +0.
uint8_t double_to_e2m1(double x);
// E8M0: 2^(e - 127); 0xff is NaN.
double e8m0_to_double(uint8_t e);

// ---- Scales -----------------------------------------------------------------------------------------

// One scale as a double, decoding the format's scale dtype (E8M0 for MX).
double load_scale(const Format& f, const void* scales, int64_t index);

// A packed matrix as stored: non-owning pointers to its tensors.
struct PackedView {
  const uint8_t* weights = nullptr;
  const void* scales = nullptr;
  const void* zeros = nullptr;  // uint only
  double global_scale = 1.0;    // nvfp4 only
};

// Dequantizes row `row` (k values) in double: the reference decoding every kernel is checked against.
void dequantize_row(const Format& f, int64_t n, int64_t k, const PackedView& p, int64_t row, double* out);

}  // namespace tessel::quant
