// The swiglu op's decoded problem, shared by its spec and every implementation.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "tessel/runtime/op.hpp"

namespace tessel {
class Registry;
}

namespace tessel::swiglu {

// The gated MLP activation, on the up-projection's output laid out as vLLM's silu_and_mul takes it:
// x[r, :] = [gate (cols) | up (cols)], and for every row r
//   y[r, j] = silu(gate[r, j]) * up[r, j] = gate / (1 + exp(-gate)) * up
// quant=none writes y in dtype. quant=e4m3|i8 writes q and a per-row scale instead, exactly as
// rmsnorm_quant does (scale = max|y| / qmax, q = round(y / scale)), ready for an fp8/int8 GEMM.
struct Shape {
  int64_t rows = 0, cols = 0;  // cols: the width of y (x has 2 * cols)
  DType dtype = DType::f32;
  std::string quant = "none";  // none | e4m3 | i8

  bool quantized() const { return quant != "none"; }
  DType quant_dtype() const { return quant == "i8" ? DType::i8 : DType::e4m3; }
  static Shape from(const Problem& p);
};

// Tensor order, as spec.tensors() lists them: x, then y (quant=none) or q and scale.
enum TensorIndex { kX = 0, kY = 1, kQ = 1, kScale = 2 };

std::unique_ptr<OpSpec> make_spec();
// Registers "cpu.fused" (src/ops/swiglu/cpu.cpp).
void register_cpu(Registry& r);
// Registers "cuda.fused" (src/ops/swiglu/cuda.cu; CUDA builds only).
void register_cuda(Registry& r);

}  // namespace tessel::swiglu
