// Epilogue: wgmma accumulators out to global memory, through swizzled shared tiles and TMA stores,
// or straight from registers with bounds checks where TMA cannot be used.
#pragma once

#include <cuda.h>

#include "tessel/cuda/common.cuh"
#include "tessel/cuda/shared_tile.cuh"
#include "tessel/cuda/tma.cuh"
#include "tessel/cuda/warpgroup.cuh"
#include "tessel/cuda/wgmma.cuh"

namespace tessel::cuda::epilogue {

// Writes two adjacent output elements, converted from f32.
TESSEL_DEVICE void store_pair(bf16* p, float v0, float v1) {
  *reinterpret_cast<__nv_bfloat162*>(p) = __floats2bfloat162_rn(v0, v1);
}
TESSEL_DEVICE void store_pair(float* p, float v0, float v1) { *reinterpret_cast<float2*>(p) = make_float2(v0, v1); }
TESSEL_DEVICE void store_one(bf16* p, float v) { *p = __float2bfloat16_rn(v); }
TESSEL_DEVICE void store_one(float* p, float v) { *p = v; }

// The staging tile one warpgroup fills per TMA store: 64 rows of 128 bytes (64 bf16 or 32 f32).
template <class OutT>
using staging_tile = st<OutT, 64, kSwizzleBytes / static_cast<int>(sizeof(OutT))>;

// Stores one warpgroup's m64nN accumulator fragment to the 64 x N box at (row0, col0) of `map`, in
// chunks of one staging tile. Two staging tiles alternate, so the threads fill one while TMA drains
// the other. `op(v0, v1, row, col)` rewrites each pair of adjacent values first (bias, activation,
// residual); row and col are global. TMA drops whatever falls outside the tensor, so ragged edges
// need no branch here. `barrier_id` is a named barrier reserved for this warpgroup.
template <class OutT, int N, class Op>
TESSEL_DEVICE void store_via_smem(const float (&acc)[N / 2], staging_tile<OutT>* staging, const CUtensorMap& map,
                                  int row0, int col0, int barrier_id, Op&& op) {
  using Stage = staging_tile<OutT>;
  constexpr int kChunkCols = Stage::cols;
  static_assert(N % kChunkCols == 0, "the fragment's columns fill whole staging tiles");
  constexpr int kChunks = N / kChunkCols;
  const bool leader = warpgroup::is_leader();
  const int lane_col = 2 * (lane_id() % 4);
#pragma unroll
  for (int c = 0; c < kChunks; ++c) {
    Stage& buf = staging[c % 2];
    // The store that last read this buffer was issued two chunks ago (or in the previous tile, which
    // also ends on the other buffer when kChunks is even).
    if (leader) {
      if constexpr (kChunks % 2 == 0) {
        tma::store_wait_read<1>();
      } else {
        tma::store_wait_read<0>();
      }
    }
    warpgroup::sync(barrier_id);
#pragma unroll
    for (int g = 0; g < kChunkCols / 8; ++g) {
#pragma unroll
      for (int h = 0; h < 2; ++h) {
        const int i = (c * (kChunkCols / 8) + g) * 4 + h * 2;
        const int r = wgmma::Fragment<N>::row(i);
        const int cc = g * 8 + lane_col;
        float v0 = acc[i], v1 = acc[i + 1];
        op(v0, v1, row0 + r, col0 + c * kChunkCols + cc);
        store_pair(&buf.at(r, cc), v0, v1);
      }
    }
    fence_proxy_async_smem();
    warpgroup::sync(barrier_id);
    if (leader) {
      tma::store_async(map, &buf, col0 + c * kChunkCols, row0);
      tma::store_commit();
    }
  }
}

// store_via_smem for widths that do not fill 128-byte swizzled staging tiles (N = 48: rows of 96 or 192
// bytes): the fragment goes to an unswizzled 64 x N staging tile and out in one TMA store, whose map
// must have a 64 x N box and no swizzle. The plain rows cost at most 2-way bank conflicts at N = 48
// (a row is 24 or 48 words), against the rolled, bounds-checked stores of store_staged, which cost
// 128 x 64 tiles 0.90x at m = 128, n = 6144 (H200, session 13).
template <class OutT, int N>
TESSEL_DEVICE void store_via_smem_plain(const float (&acc)[N / 2], OutT* staging, const CUtensorMap& map, int row0,
                                        int col0, int barrier_id) {
  static_assert((N * sizeof(OutT)) % 16 == 0, "a TMA box row is whole 16-byte units");
  if (warpgroup::is_leader()) tma::store_wait_read<0>();  // the previous tile's store has read the staging tile
  warpgroup::sync(barrier_id);
#pragma unroll
  for (int i = 0; i < N / 2; i += 2)
    store_pair(staging + wgmma::Fragment<N>::row(i) * N + wgmma::Fragment<N>::col(i), acc[i], acc[i + 1]);
  fence_proxy_async_smem();
  warpgroup::sync(barrier_id);
  if (warpgroup::is_leader()) {
    tma::store_async(map, staging, col0, row0);
    tma::store_commit();
  }
}

// Stores one warpgroup's m64nN fragment to C through a 64 x 64 f32 staging tile (16 KiB), applying
// `op(v, row, col) -> float` to every element on the way. Code size is the point: the fragment's
// registers can only be named by unrolled code, so an epilogue with bias, activation and residual
// unrolled over 128 values grows to hundreds of KiB of SASS that misses the instruction cache on every
// tile. Here only the register-to-staging copy is unrolled; the fused math runs in one rolled loop
// whose threads walk rows, so the global stores are coalesced and bounds-checked (any n, any ldc).
template <class OutT, int N, class Op>
TESSEL_DEVICE void store_staged(const float (&acc)[N / 2], float* staging, OutT* c_ptr, int64_t ldc, int rows,
                                int cols, int row0, int col0, int barrier_id, Op&& op) {
  constexpr int kChunkCols = 64;
  static_assert(N % kChunkCols == 0 || N < kChunkCols, "the fragment's columns fill whole staging chunks");
  constexpr int kChunks = N < kChunkCols ? 1 : N / kChunkCols;
  constexpr int kCols = N < kChunkCols ? N : kChunkCols;
  // Row r's 16-byte chunk j sits at chunk j ^ (r % 8): the eight rows a warp writes at once land in
  // different banks, and a float4 read of one chunk stays contiguous.
  auto slot = [staging](int r, int col) {
    return staging + r * kChunkCols + ((((col >> 2) ^ (r & 7)) << 2) | (col & 3));
  };
  const int lane_col = 2 * (lane_id() % 4);
  const int t = thread_in_warpgroup();
#pragma unroll
  for (int ch = 0; ch < kChunks; ++ch) {
    warpgroup::sync(barrier_id);  // the previous chunk's readers are done with the staging tile
#pragma unroll
    for (int g = 0; g < kCols / 8; ++g) {
#pragma unroll
      for (int h = 0; h < 2; ++h) {
        const int i = (ch * (kCols / 8) + g) * 4 + h * 2;
        const int r = wgmma::Fragment<N>::row(i);
        *reinterpret_cast<float2*>(slot(r, g * 8 + lane_col)) = make_float2(acc[i], acc[i + 1]);
      }
    }
    warpgroup::sync(barrier_id);
    const int cbase = col0 + ch * kCols;
#pragma unroll 1
    for (int e = t * 4; e < 64 * kCols; e += kWarpgroupThreads * 4) {
      const int r = e / kCols, cc = e % kCols;
      const int gr = row0 + r, gc = cbase + cc;
      if (gr >= rows) continue;
      const float4 v = *reinterpret_cast<const float4*>(slot(r, cc));
      OutT* p = c_ptr + int64_t(gr) * ldc + gc;
      // The fused math runs once per element whichever way the values are stored.
      const float o0 = op(v.x, gr, gc), o1 = op(v.y, gr, gc + 1), o2 = op(v.z, gr, gc + 2), o3 = op(v.w, gr, gc + 3);
      if (gc + 3 < cols && (reinterpret_cast<uintptr_t>(p) % (4 * sizeof(OutT))) == 0) {
        store_pair(p, o0, o1);
        store_pair(p + 2, o2, o3);
      } else {
        if (gc < cols) store_one(p, o0);
        if (gc + 1 < cols) store_one(p + 1, o1);
        if (gc + 2 < cols) store_one(p + 2, o2);
        if (gc + 3 < cols) store_one(p + 3, o3);
      }
    }
  }
}

// Stores one warpgroup's m64nN fragment straight to C (row-major, `ldc` elements per row) at
// (row0, col0), skipping elements outside rows x cols. Pairs go out as one vector when both are in
// range and the address is aligned for it.
template <class OutT, int N, class Op>
TESSEL_DEVICE void store_direct(const float (&acc)[N / 2], OutT* c_ptr, int64_t ldc, int rows, int cols, int row0,
                                int col0, Op&& op) {
#pragma unroll
  for (int i = 0; i < N / 2; i += 2) {
    const int r = row0 + wgmma::Fragment<N>::row(i);
    const int c = col0 + wgmma::Fragment<N>::col(i);
    if (r >= rows || c >= cols) continue;
    float v0 = acc[i], v1 = acc[i + 1];
    op(v0, v1, r, c);
    OutT* p = c_ptr + int64_t(r) * ldc + c;
    if (c + 1 < cols && (reinterpret_cast<uintptr_t>(p) % (2 * sizeof(OutT))) == 0) {
      store_pair(p, v0, v1);
    } else {
      store_one(p, v0);
      if (c + 1 < cols) store_one(p + 1, v1);
    }
  }
}

}  // namespace tessel::cuda::epilogue
