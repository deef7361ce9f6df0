// The softmax op's decoded problem, shared by its spec and every softmax implementation.
#pragma once

#include <cstdint>
#include <memory>

#include "tessel/runtime/op.hpp"

namespace tessel {
class Registry;
}

namespace tessel::softmax {

// y[r, j] = exp(x[r, j] - max_r) / sum_j' exp(x[r, j'] - max_r), over the last dimension.
// x and y share one dtype (f32 or bf16); implementations compute in f32 or wider.
struct Shape {
  int64_t rows = 0, cols = 0;
  DType dtype = DType::f32;

  static Shape from(const Problem& p);
};

// Tensor order, as spec.tensors() lists them.
enum TensorIndex { kX = 0, kY = 1 };

std::unique_ptr<OpSpec> make_spec();
// Registers "cpu.simd" (src/ops/softmax/cpu.cpp).
void register_cpu(Registry& r);
// Registers "cpu.fused" (src/ops/softmax/cpu_fused.cpp).
void register_cpu_fused(Registry& r);
// Registers "cuda.fused" (src/ops/softmax/cuda.cu; CUDA builds only).
void register_cuda(Registry& r);

}  // namespace tessel::softmax
