// Quantizing an f32 weight matrix into any tessel format, with the error it costs (RMSE, SQNR).
#pragma once

#include <cstdint>
#include <vector>

#include "tessel/core/status.hpp"
#include "tessel/quant/format.hpp"

namespace tessel::quant {

// A packed matrix that owns its tensors, laid out as shapes(fmt, n, k) says.
struct PackedMatrix {
  Format fmt;
  int64_t n = 0, k = 0;
  std::vector<uint8_t> weights;
  std::vector<uint8_t> scales;  // scale_count elements of fmt.scale_dtype
  std::vector<uint8_t> zeros;   // uint only: zero_count elements of fmt.scale_dtype
  float global_scale = 1.0f;    // nvfp4 only

  PackedView view() const { return {weights.data(), scales.data(), zeros.empty() ? nullptr : zeros.data(), global_scale}; }
  // Bytes of everything stored, per weight, in bits.
  double bits_per_weight() const;
};

// How far the dequantized matrix is from the original.
struct QuantReport {
  double rmse = 0;           // sqrt(mean((w - dq)^2))
  double sqnr_db = 0;        // 10 log10(sum w^2 / sum (w - dq)^2); +inf when exact
  double max_abs_error = 0;
  double rel_l2 = 0;         // ||w - dq|| / ||w||
  double bits_per_weight = 0;
};

// Quantizes w[n, k] (row-major, finite values) into `fmt`:
//  - int:     per group, a small search over clipping scales picks the least squared error; 1-bit
//             uses s = mean|w| (the L2-optimal sign quantizer).
//  - uint:    min/max with shrunk ranges, each refit by least squares (s, z).
//  - ternary, ternary5: a search over thresholds, refit by least squares (s).
//  - mxfp4, mxint8: the OCP MX rule: shared exponent floor(log2(amax)) - emax(element).
//  - nvfp4:   global scale amax / (448 * 6), block scales e4m3(amax_block / 6 / global).
// Scales are rounded to their dtype before codes are chosen, so the report measures what is stored.
// Non-finite inputs are rejected with the position of the first one.
Result<PackedMatrix> quantize(const Format& fmt, const float* w, int64_t n, int64_t k, QuantReport* report = nullptr);

// Dequantizes the whole matrix into f32 (row-major [n, k]).
std::vector<float> dequantize(const PackedMatrix& m);

// Compares an original with its dequantized copy.
QuantReport measure_error(const float* original, const float* dequantized, int64_t count);

}  // namespace tessel::quant
