// The rmsnorm_quant op's decoded problem, shared by its spec and every implementation.
#pragma once

#include <cstdint>
#include <memory>

#include "tessel/runtime/op.hpp"

namespace tessel {
class Registry;
}

namespace tessel::rmsnorm_quant {

// RMSNorm followed by per-token (per-row) symmetric quantization, for every row r:
//   y[r, :]  = x[r, :] / sqrt(mean(x[r, :]^2) + eps) * weight[:]          (not stored)
//   scale[r] = max_j |y[r, j]| / qmax                                      (qmax: 448 e4m3, 127 i8)
//   q[r, j]  = round(y[r, j] / scale[r]) in the quantized type  (nearest even; e4m3 saturates at 448)
// A row whose y is all zero gets scale 0 and q 0. x and weight share dtype (f32 or bf16).
struct Shape {
  int64_t rows = 0, cols = 0;
  DType dtype = DType::f32;   // x and weight
  DType quant = DType::e4m3;  // q: e4m3 or i8
  double eps = 1e-6;

  double qmax() const { return quant == DType::e4m3 ? 448.0 : 127.0; }
  static Shape from(const Problem& p);
};

// Tensor order, as spec.tensors() lists them.
enum TensorIndex { kX = 0, kWeight = 1, kQ = 2, kScale = 3 };

// The tolerance of a per-row quantized output q (and its scale), explained in spec.cpp: one step of
// q may flip; `f32_rel` is the relative error of the unquantized value. Shared with swiglu.
Tolerance quantized_tolerance(DType quant, int64_t rows, int64_t cols, double f32_rel);
// The tolerance of the per-row scale output (max|y| / qmax), whose f32 error is `f32_rel`.
Tolerance scale_tolerance(double f32_rel);

std::unique_ptr<OpSpec> make_spec();
// Registers "cpu.fused" (src/ops/rmsnorm_quant/cpu.cpp).
void register_cpu(Registry& r);
// Registers "cuda.fused" (src/ops/rmsnorm_quant/cuda.cu; CUDA builds only).
void register_cuda(Registry& r);

}  // namespace tessel::rmsnorm_quant
