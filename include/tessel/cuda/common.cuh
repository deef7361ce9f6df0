// Shared basics of the tile layer: element types, thread geometry and shared-memory addressing.
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp8.h>
#include <cuda_runtime.h>

#include <cstdint>

// Every device helper is force-inlined: the layer is a vocabulary, not a call graph, and a real call
// would spill the wgmma accumulators across it.
#define TESSEL_DEVICE __device__ __forceinline__
#define TESSEL_HOST_DEVICE __host__ __device__ __forceinline__

namespace tessel::cuda {

using bf16 = __nv_bfloat16;
// fp8 e4m3 (1 sign, 4 exponent, 3 mantissa bits): the 8-bit operand type of wgmma's k32 shapes.
using fp8e4m3 = __nv_fp8_e4m3;

// ---- Thread geometry --------------------------------------------------------------------------------

inline constexpr int kWarpSize = 32;
inline constexpr int kWarpgroupWarps = 4;
inline constexpr int kWarpgroupThreads = kWarpSize * kWarpgroupWarps;

TESSEL_DEVICE int lane_id() { return static_cast<int>(threadIdx.x) % kWarpSize; }
TESSEL_DEVICE int warp_id() { return static_cast<int>(threadIdx.x) / kWarpSize; }
// The warpgroup index is made warp-uniform so that the compiler can branch on it without divergence.
TESSEL_DEVICE int warpgroup_id() {
  return __shfl_sync(0xffffffffu, static_cast<int>(threadIdx.x) / kWarpgroupThreads, 0);
}
TESSEL_DEVICE int warp_in_warpgroup() { return warp_id() % kWarpgroupWarps; }
TESSEL_DEVICE int thread_in_warpgroup() { return static_cast<int>(threadIdx.x) % kWarpgroupThreads; }

// ---- Shared memory ----------------------------------------------------------------------------------

// The 32-bit shared-window address that PTX memory instructions (TMA, mbarrier, ldmatrix) expect.
TESSEL_DEVICE uint32_t smem_addr(const void* p) {
  return static_cast<uint32_t>(__cvta_generic_to_shared(p));
}

// A float read from shared memory as ld.shared. Through a pointer derived from an aligned-up
// extern __shared__ base the compiler no longer knows the address space and emits a generic LD
// (seen in the fp8 gemm's SASS); this says it. Volatile, so it stays after the barrier wait that
// made the data valid.
TESSEL_DEVICE float ld_shared(const float* p) {
  float v;
  asm volatile("ld.shared.f32 %0, [%1];" : "=f"(v) : "r"(smem_addr(p)) : "memory");
  return v;
}

TESSEL_HOST_DEVICE constexpr int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// Makes ordinary shared-memory writes visible to the async proxy (TMA stores, wgmma operand reads).
// Each writing thread issues it before the barrier that hands the data over.
TESSEL_DEVICE void fence_proxy_async_smem() {
  asm volatile("fence.proxy.async.shared::cta;" ::: "memory");
}

}  // namespace tessel::cuda
