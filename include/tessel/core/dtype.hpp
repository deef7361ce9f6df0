// Element types tessel knows, their names and sizes, and scalar conversions to and from double.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tessel {

// Every element type an op can declare. Packed integers of 1..7 bits: element i starts at bit i*b of
// the buffer (bit o is bit o%8 of byte o/8), so widths 3, 5, 6 and 7 may straddle a byte boundary.
enum class DType : uint8_t {
  f64,
  f32,
  f16,
  bf16,
  e4m3,  // fp8 e4m3fn: no infinities, one NaN pattern per sign (0x7f/0xff), max 448.
  e5m2,  // fp8 e5m2: IEEE-like, with infinities and NaNs, max 57344.
  i8,
  u8,
  i32,
  // Packed integers; the number is the bit width.
  s1, s2, s3, s4, s5, s6, s7,
  u1, u2, u3, u4, u5, u6, u7,
};

// The canonical lowercase name, as written in descriptors ("bf16", "e4m3", "s4", ...).
std::string_view dtype_name(DType t);
// Parses a canonical name or a documented alias ("float32", "fp8_e4m3", "int8", ...). nullopt if unknown.
std::optional<DType> parse_dtype(std::string_view name);
// The list of accepted names, for error messages.
std::string dtype_names();

// Width of one element in bits (1..64).
int dtype_bits(DType t);
bool dtype_is_float(DType t);
bool dtype_is_packed(DType t);  // sub-byte integers
bool dtype_is_signed(DType t);  // can hold negative values (true for every float)
// Bytes needed for `count` elements of `t`, rounding packed types up to whole bytes.
size_t dtype_storage_bytes(DType t, int64_t count);

// ---- Scalar conversions -------------------------------------------------------------------------
// Encoding rounds to nearest, ties to even. Formats with infinities overflow to infinity; e4m3 (which
// has none) saturates to +-448, as the OCP FP8 spec allows for conversion, and maps NaN to 0x7f.
// Integer encodings round to nearest even and saturate to the type's range; NaN encodes as 0.

uint16_t f32_to_f16_bits(float x);
float f16_bits_to_f32(uint16_t h);
uint16_t f32_to_bf16_bits(float x);
float bf16_bits_to_f32(uint16_t h);
uint8_t f32_to_e4m3_bits(float x);
float e4m3_bits_to_f32(uint8_t b);
uint8_t f32_to_e5m2_bits(float x);
float e5m2_bits_to_f32(uint8_t b);

// Rounds a double to the nearest value representable in `t` (the value an encode/decode round trip
// would give). Floats with fewer than 53 bits round once, from double, so no double rounding occurs.
double dtype_round(DType t, double x);

// Reads element `index` of a buffer of type `t` as double. Works for every dtype, packed ones too.
double load_as_double(DType t, const void* base, int64_t index);
// Writes `x` (rounded as dtype_round does) into element `index` of a buffer of type `t`.
void store_from_double(DType t, void* base, int64_t index, double x);

}  // namespace tessel
