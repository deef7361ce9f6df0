// The rmsnorm op's decoded problem, shared by its spec and every rmsnorm implementation.
#pragma once

#include <cstdint>
#include <memory>

#include "tessel/runtime/op.hpp"

namespace tessel {
class Registry;
}

namespace tessel::rmsnorm {

// y[r, :] = x[r, :] / sqrt(mean(x[r, :]^2) + eps) * weight[:], for every row r.
// x, weight and y share one dtype (f32 or bf16); implementations accumulate the mean in f32 or wider.
struct Shape {
  int64_t rows = 0, cols = 0;
  DType dtype = DType::f32;
  double eps = 1e-6;

  static Shape from(const Problem& p);
};

// Tensor order, as spec.tensors() lists them.
enum TensorIndex { kX = 0, kWeight = 1, kY = 2 };

std::unique_ptr<OpSpec> make_spec();
// Registers "cpu.simd" (src/ops/rmsnorm/cpu.cpp).
void register_cpu(Registry& r);
// Registers "cpu.fused" (src/ops/rmsnorm/cpu_fused.cpp).
void register_cpu_fused(Registry& r);
// Registers "cuda.fused" (src/ops/rmsnorm/cuda.cu; CUDA builds only).
void register_cuda(Registry& r);

}  // namespace tessel::rmsnorm
