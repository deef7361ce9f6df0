// The eltwise op's decoded problem, shared by its spec and every implementation.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "tessel/runtime/op.hpp"

namespace tessel {
class Registry;
}

namespace tessel::eltwise {

// A generic elementwise chain over [rows, cols], chosen by name from a small vocabulary. Each is one
// fusion chain (include/tessel/fuse) on the CPU:
//   silu, gelu_tanh, gelu_erf, relu    y = act(x)
//   silu_mul, gelu_mul                  y = act(a) * b            (SwiGLU / GeGLU on separate tensors)
//   bias_gelu                           y = gelu_erf(x + bias)    (bias: one row, broadcast)
//   dequant_i8, dequant_e4m3            y = q * scale[row]        (int8 / fp8 codes, per-row f32 scale)
// Float inputs and y have dtype (f32 or bf16); q has the chain's own type.
enum class ChainId { silu, gelu_tanh, gelu_erf, relu, silu_mul, gelu_mul, bias_gelu, dequant_i8, dequant_e4m3 };

const std::vector<std::string>& chain_names();  // in ChainId order

struct Shape {
  int64_t rows = 0, cols = 0;
  DType dtype = DType::f32;
  ChainId chain = ChainId::silu;

  // How many input tensors the chain reads (1 or 2); y follows them.
  int inputs() const { return chain == ChainId::silu || chain == ChainId::gelu_tanh || chain == ChainId::gelu_erf ||
                                      chain == ChainId::relu ? 1 : 2; }
  static Shape from(const Problem& p);
};

std::unique_ptr<OpSpec> make_spec();
// Registers "cpu.fused" (src/ops/eltwise/cpu.cpp).
void register_cpu(Registry& r);
// Registers "cuda.fused" (src/ops/eltwise/cuda.cu; CUDA builds only).
void register_cuda(Registry& r);

}  // namespace tessel::eltwise
