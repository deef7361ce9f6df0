// The rope op's decoded problem, shared by its spec and every implementation.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "tessel/runtime/op.hpp"

namespace tessel {
class Registry;
}

namespace tessel::rope {

// Rotary position embedding applied to q and k together (one launch), out of place.
//   positions [tokens] (int32), q [tokens, heads_q, dim], k [tokens, heads_k, dim]
//   -> q_out, k_out of the same shapes and dtype (f32 or bf16).
// The angle of pair i of a token at position p is p * theta^(-2i/dim); the pairs are (i, i + dim/2)
// for style=neox (rotate halves) and (2i, 2i + 1) for style=gptj (interleaved):
//   a' = a cos - b sin,   b' = b cos + a sin.
// Positions are taken as given (negative ones rotate backwards); |position| must be below 2^24.
// The harness sees q and k as [tokens, heads * dim]: the same memory, with one row per token, so
// that both outputs share the rows it checks.
struct Shape {
  int64_t tokens = 0, heads_q = 0, heads_k = 0;
  int dim = 0;
  DType dtype = DType::f32;
  bool neox = true;
  double theta = 10000;

  static Shape from(const Problem& p);
};

// Tensor order, as spec.tensors() lists them.
enum TensorIndex { kPositions = 0, kQ = 1, kK = 2, kQOut = 3, kKOut = 4 };

inline constexpr int kMaxDim = 512;
inline constexpr int64_t kMaxPosition = int64_t{1} << 24;

// theta^(-2i/dim) for i in [0, dim/2), in double: the spec's reference and every implementation use it.
std::vector<double> inv_freq(double theta, int dim);

std::unique_ptr<OpSpec> make_spec();
// Registers "cpu.fused" (src/ops/rope/cpu.cpp).
void register_cpu(Registry& r);
// Registers "cuda.fused" (src/ops/rope/cuda.cu; CUDA builds only).
void register_cuda(Registry& r);

}  // namespace tessel::rope
