// The layernorm op's decoded problem, shared by its spec and every implementation.
#pragma once

#include <cstdint>
#include <memory>

#include "tessel/runtime/op.hpp"

namespace tessel {
class Registry;
}

namespace tessel::layernorm {

// y[r, :] = (x[r, :] - mean) / sqrt(var + eps) * weight[:] + bias[:], with the mean and the
// (population) variance of row r. All tensors share one dtype (f32 or bf16).
struct Shape {
  int64_t rows = 0, cols = 0;
  DType dtype = DType::f32;
  double eps = 1e-5;

  static Shape from(const Problem& p);
};

// Tensor order, as spec.tensors() lists them.
enum TensorIndex { kX = 0, kWeight = 1, kBias = 2, kY = 3 };

std::unique_ptr<OpSpec> make_spec();
// Registers "cpu.fused" (src/ops/layernorm/cpu.cpp).
void register_cpu(Registry& r);
// Registers "cuda.fused" (src/ops/layernorm/cuda.cu; CUDA builds only).
void register_cuda(Registry& r);

}  // namespace tessel::layernorm
