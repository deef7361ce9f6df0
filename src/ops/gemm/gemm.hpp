// The gemm op's decoded problem, shared by its spec and every gemm implementation.
#pragma once

#include <memory>

#include "tessel/runtime/op.hpp"

namespace tessel::gemm {

// C[M,N] = act(scale * (A[M,K] . B) + bias[N]) + residual[M,N], accumulated in f32 or wider.
// B is [K,N] row-major (b=kn) or [N,K] row-major (b=nk, the layout of an LLM weight: y = x W^T).
enum class BLayout { kn, nk };
enum class Activation { none, silu, gelu };  // gelu: the tanh approximation
enum class Scaling { none, tensor, block };  // block: A per 1x128 of K, B per 128x128 (DeepSeek-V3)
// Block scale_a stored [M, K/128] row-major (mk: a row's scales together, as a per-token quantizer
// writes them) or [K/128, M] (km: a K block's scales for consecutive rows together, so a GPU tile
// loads its 128 rows' scales as one contiguous 512-byte run; the layout DeepGEMM takes).
enum class ScaleLayout { mk, km };

inline constexpr int64_t kScaleBlock = 128;

struct Shape {
  int64_t m = 0, n = 0, k = 0;
  DType in = DType::f32;   // A and B
  DType out = DType::f32;  // C, bias and residual
  BLayout b = BLayout::kn;
  Activation act = Activation::none;
  bool bias = false;
  bool residual = false;
  Scaling scaling = Scaling::none;
  ScaleLayout scale_layout = ScaleLayout::mk;  // of block scale_a

  static Shape from(const Problem& p);
  int64_t k_blocks() const { return (k + kScaleBlock - 1) / kScaleBlock; }
  int64_t n_blocks() const { return (n + kScaleBlock - 1) / kScaleBlock; }
  // Block scale_a's element strides per row and per K block, in either layout (dense).
  struct ScaleStrides {
    int64_t row, kb;
  };
  ScaleStrides scale_a_strides() const {
    return scale_layout == ScaleLayout::mk ? ScaleStrides{k_blocks(), 1} : ScaleStrides{1, m};
  }
  int64_t scale_a_offset(int64_t row, int64_t kb) const {
    const ScaleStrides st = scale_a_strides();
    return row * st.row + kb * st.kb;
  }
};

// Tensor order, as spec.tensors() lists them: A, B, [bias], [residual], [scale_a, scale_b], C.
// These give each tensor's index in that list, or -1 when absent.
struct TensorIndex {
  int a = 0, b = 1, bias = -1, residual = -1, scale_a = -1, scale_b = -1, c = -1;
  static TensorIndex of(const Shape& s);
};

double apply_activation(Activation act, double x);

// Writes rows x cols of an f32 accumulator block (leading dimension ldacc) to C (ldc, type s.out)
// with bias, activation and residual, which are offset to the block already: the one CPU epilogue,
// shared by cpu.simd and the bf16 kernels (src/ops/gemm/cpu.cpp).
void cpu_epilogue(const Shape& s, const float* acc, int64_t ldacc, int64_t rows, int64_t cols, const void* bias,
                  const void* residual, void* c, int64_t ldc);

std::unique_ptr<OpSpec> make_spec();

}  // namespace tessel::gemm
