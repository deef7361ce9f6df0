// The rmsnorm_residual op's decoded problem, shared by its spec and every implementation.
#pragma once

#include <cstdint>
#include <memory>

#include "tessel/runtime/op.hpp"

namespace tessel {
class Registry;
}

namespace tessel::rmsnorm_residual {

// The pre-norm residual step of a transformer block, for every row r:
//   h[r, :] = x[r, :] + residual[r, :], rounded to dtype      (the updated residual stream)
//   y[r, :] = h[r, :] / sqrt(mean(h[r, :]^2) + eps) * weight[:]
// y normalizes the h that is stored, so the fused op equals "add, store, rmsnorm" run separately.
// All tensors share one dtype (f32 or bf16).
struct Shape {
  int64_t rows = 0, cols = 0;
  DType dtype = DType::f32;
  double eps = 1e-6;

  static Shape from(const Problem& p);
};

// Tensor order, as spec.tensors() lists them.
enum TensorIndex { kX = 0, kResidual = 1, kWeight = 2, kH = 3, kY = 4 };

std::unique_ptr<OpSpec> make_spec();
// Registers "cpu.fused" (src/ops/rmsnorm_residual/cpu.cpp).
void register_cpu(Registry& r);
// Registers "cuda.fused" (src/ops/rmsnorm_residual/cuda.cu; CUDA builds only).
void register_cuda(Registry& r);

}  // namespace tessel::rmsnorm_residual
