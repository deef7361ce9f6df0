// The gemm epilogue shared by every CUDA gemm kernel: scale, bias, activation and residual on f32 values;
// and the split-K hand-off of the warp-specialized kernels (cuda.wgmma, cuda.wgmma.fp8).
#pragma once

#include "tessel/cuda/common.cuh"
#include "tessel/cuda/warpgroup.cuh"
#include "tessel/cuda/wgmma.cuh"

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

// Split K, in a kernel whose `consumers` warpgroups (warpgroups 1..consumers) each hold the m64nN
// accumulator fragment `acc` of rows 64c..64c+63 of a 64*consumers x N tile. Publishes this unit's
// partial to workspace[unit] (tile-local layout: no bounds to check) and counts the tile in; the CTA
// that brings the tile's last split gets true, with `acc` replaced by the sum of the tile's splits in
// split order (the result does not depend on which finished first), and zeroes the counter for the
// next launch. `last` is a shared int; named barrier 3 must be free. Every consumer thread calls it.
template <int N>
TESSEL_DEVICE bool reduce_splits(float (&acc)[N / 2], float* workspace, int* counters, int unit, int tile, int splits,
                                 int c, int consumers, int& last) {
  namespace tc = tessel::cuda;
  using Frag = tc::wgmma::Fragment<N>;
  const int rows = 64 * consumers;
  float* mine = workspace + (size_t(unit) * rows + size_t(c) * 64) * N;
#pragma unroll
  for (int i = 0; i < N / 2; i += 2)
    __stcg(reinterpret_cast<float2*>(mine + Frag::row(i) * N + Frag::col(i)), make_float2(acc[i], acc[i + 1]));
  __threadfence();
  tc::warpgroup::sync(3, consumers * tc::kWarpgroupThreads);
  if (threadIdx.x == tc::kWarpgroupThreads) last = atomicAdd(&counters[tile], 1) == splits - 1;
  tc::warpgroup::sync(3, consumers * tc::kWarpgroupThreads);
  if (!last) return false;
  __threadfence();
#pragma unroll
  for (int i = 0; i < N / 2; ++i) acc[i] = 0.0f;
#pragma unroll 1
  for (int sp = 0; sp < splits; ++sp) {
    const float* part = workspace + (size_t(tile * splits + sp) * rows + size_t(c) * 64) * N;
#pragma unroll
    for (int i = 0; i < N / 2; i += 2) {
      const float2 v = __ldcg(reinterpret_cast<const float2*>(part + Frag::row(i) * N + Frag::col(i)));
      acc[i] += v.x;
      acc[i + 1] += v.y;
    }
  }
  if (threadIdx.x == tc::kWarpgroupThreads) counters[tile] = 0;
  return true;
}

}  // namespace tessel::gemm::cuda_kernels
