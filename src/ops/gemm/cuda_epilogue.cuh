// The gemm epilogue shared by every CUDA gemm kernel: scale, bias, activation and residual on f32 values.
#pragma once

#include "tessel/cuda/common.cuh"

namespace tessel::gemm::cuda_kernels {

using tessel::cuda::bf16;

TESSEL_DEVICE float to_float(bf16 v) { return __bfloat162float(v); }
TESSEL_DEVICE float to_float(float v) { return v; }

// Activation codes, as Shape::act orders them: none, silu, gelu (tanh approximation).
enum : int { kActNone = 0, kActSilu = 1, kActGelu = 2 };

TESSEL_DEVICE float activate(float x, int act) {
  if (act == kActSilu) return x / (1.0f + __expf(-x));
  if (act == kActGelu) {
    const float kC = 0.7978845608028654f;  // sqrt(2/pi)
    return 0.5f * x * (1.0f + tanhf(kC * (x + 0.044715f * x * x * x)));
  }
  return x;
}

// C = act(scale * acc + bias[col]) + residual[row, col], for one element or a pair of adjacent ones.
// `rows` x `cols` bound the residual and bias reads; elements outside are computed but never stored.
template <class OutT>
struct FusedEpilogue {
  const OutT* bias = nullptr;
  const OutT* residual = nullptr;
  int64_t ld_residual = 0;
  const float* scale_a = nullptr;  // per-tensor scales (fp8); null means 1
  const float* scale_b = nullptr;
  int act = kActNone;
  int rows = 0;
  int cols = 0;

  TESSEL_DEVICE float apply(float v, int r, int c) const {
    if (scale_a != nullptr) v *= (*scale_a) * (*scale_b);
    if (bias != nullptr && c < cols) v += to_float(bias[c]);
    v = activate(v, act);
    if (residual != nullptr && r < rows && c < cols) v += to_float(residual[int64_t(r) * ld_residual + c]);
    return v;
  }
  TESSEL_DEVICE void operator()(float& v0, float& v1, int r, int c) const {
    v0 = apply(v0, r, c);
    v1 = apply(v1, r, c + 1);
  }
};

}  // namespace tessel::gemm::cuda_kernels
