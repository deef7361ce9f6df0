// Session 21 experiment (issue 3, skinny GEMMs): how fast the H200 reads a bf16 weight W [n, k] in the
// orders a kernel can choose, read-only, timed as bulk-copy.cu (read flush, events, median of 22):
// - linear: 16-byte loads over W as one flat array (one-pass grid, or a grid-stride loop);
// - tma tiles: one CTA per 64-row tile of W (and per K split), TMA boxes of 64 rows x 64 columns (128
//   bytes a row, 128-byte swizzle), `panels` boxes a stage, a ring of stages refilled as soon as each
//   lands (no math): the order cuda.wgmma.skinny reads W in;
// - bulk rows: one CTA per 64-row tile (1 MiB contiguous at k = 8192), read front to back by 1D bulk
//   copies of 16 KiB through a ring.
// cuda.wgmma.skinny streams 4.0-4.1 TB/s at n = k = 8192 and cuBLASLt 4.37 (docs/tile-layer.md).
//   nvcc -std=c++20 -O3 -arch=sm_90a --expt-relaxed-constexpr -I include bench/results/h200/session21/read-patterns.cu -o read-patterns
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <vector>

#include "tessel/cuda/barrier.cuh"
#include "tessel/cuda/global_layout.cuh"
#include "tessel/cuda/tma.cuh"

namespace tc = tessel::cuda;

template <int U>
__global__ void linear_read(const uint4* __restrict__ src, size_t n, unsigned* sink) {
  unsigned acc = 0;
  const size_t stride = size_t(gridDim.x) * blockDim.x * U;
  for (size_t i = size_t(blockIdx.x) * blockDim.x * U + threadIdx.x; i < n; i += stride) {
    uint4 v[U];
#pragma unroll
    for (int u = 0; u < U; ++u) v[u] = i + size_t(u) * blockDim.x < n ? src[i + size_t(u) * blockDim.x] : uint4{};
#pragma unroll
    for (int u = 0; u < U; ++u) acc ^= v[u].x ^ v[u].y ^ v[u].z ^ v[u].w;
  }
  if (acc == 0x9e3779b9u) *sink = acc;
}

// A BR x 64 bf16 box: BR * 128 bytes.
template <int STAGES, int PANELS, int BR = 64>
__global__ void tma_tiles(const __grid_constant__ CUtensorMap map, int k, int splits) {
  constexpr uint32_t kBoxBytes = BR * 64 * 2;
  extern __shared__ __align__(1024) uint8_t smem_raw[];
  uint8_t* smem = reinterpret_cast<uint8_t*>((reinterpret_cast<uintptr_t>(smem_raw) + 1023) & ~uintptr_t{1023});
  __shared__ tc::Barrier full[STAGES];
  if (threadIdx.x != 0) return;
  for (int s = 0; s < STAGES; ++s) tc::init(full[s], 1);
  tc::fence_barrier_init();
  const int tile = blockIdx.x / splits, split = blockIdx.x % splits;
  const int panels_total = k / 64, per_split = panels_total / splits;
  const int p0 = split * per_split, stages_total = per_split / PANELS;
  auto load = [&](int j, int s) {
    tc::arrive_expect_tx(full[s], kBoxBytes * PANELS);
    for (int p = 0; p < PANELS; ++p)
      tc::tma::load_async(smem + (size_t(s) * PANELS + p) * kBoxBytes, map, (p0 + j * PANELS + p) * 64, tile * BR,
                          full[s]);
  };
  for (int j = 0; j < STAGES && j < stages_total; ++j) load(j, j);
  for (int j = 0; j < stages_total; ++j) {
    const int s = j % STAGES;
    tc::wait(full[s], uint32_t((j / STAGES) & 1));
    if (j + STAGES < stages_total) load(j + STAGES, s);
  }
}

__device__ __forceinline__ void bulk_load(void* smem, const void* gmem, uint32_t bytes, tc::Barrier& bar) {
  asm volatile(
      "cp.async.bulk.shared::cluster.global.mbarrier::complete_tx::bytes [%0], [%1], %2, [%3];" ::"r"(
          tc::smem_addr(smem)),
      "l"(gmem), "r"(bytes), "r"(tc::smem_addr(&bar))
      : "memory");
}

template <int STAGES>
__global__ void bulk_rows(const uint8_t* __restrict__ w, size_t tile_bytes, uint32_t chunk) {
  extern __shared__ __align__(128) uint8_t smem[];
  __shared__ tc::Barrier full[STAGES];
  if (threadIdx.x != 0) return;
  for (int s = 0; s < STAGES; ++s) tc::init(full[s], 1);
  tc::fence_barrier_init();
  const uint8_t* base = w + size_t(blockIdx.x) * tile_bytes;
  const int n = int(tile_bytes / chunk);
  auto load = [&](int j, int s) {
    tc::arrive_expect_tx(full[s], chunk);
    bulk_load(smem + size_t(s) * chunk, base + size_t(j) * chunk, chunk, full[s]);
  };
  for (int j = 0; j < STAGES && j < n; ++j) load(j, j);
  for (int j = 0; j < n; ++j) {
    const int s = j % STAGES;
    tc::wait(full[s], uint32_t((j / STAGES) & 1));
    if (j + STAGES < n) load(j + STAGES, s);
  }
}

__global__ void read_flush(const uint4* __restrict__ src, size_t n, unsigned* sink) {
  unsigned acc = 0;
  for (size_t i = size_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += size_t(gridDim.x) * blockDim.x) {
    const uint4 v = src[i];
    acc ^= v.x ^ v.y ^ v.z ^ v.w;
  }
  if (acc == 0x9e3779b9u) *sink = acc;
}

int main() {
  int sms = 0;
  cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, 0);
  const size_t flush_bytes = size_t(512) << 20;
  char* flush = nullptr;
  cudaMalloc(&flush, flush_bytes);
  cudaMemset(flush, 3, flush_bytes);
  unsigned* sink = nullptr;
  cudaMalloc(&sink, sizeof(unsigned));
  cudaEvent_t e0, e1;
  cudaEventCreate(&e0);
  cudaEventCreate(&e1);
  auto time = [&](auto&& launch) {
    std::vector<float> t;
    for (int r = 0; r < 25; ++r) {
      read_flush<<<sms * 8, 256>>>((const uint4*)flush, flush_bytes / 16, sink);
      cudaEventRecord(e0);
      launch();
      cudaEventRecord(e1);
      cudaEventSynchronize(e1);
      float ms = 0;
      cudaEventElapsedTime(&ms, e0, e1);
      if (r >= 3) t.push_back(ms);
    }
    std::sort(t.begin(), t.end());
    return t[t.size() / 2] * 1e-3;
  };
  struct Shape {
    int n, k;
  };
  for (Shape sh : {Shape{8192, 8192}, Shape{28672, 4096}, Shape{6144, 4096}}) {
    const size_t bytes = size_t(sh.n) * sh.k * 2, n16 = bytes / 16;
    uint8_t* w = nullptr;
    cudaMalloc(&w, bytes);
    cudaMemset(w, 1, bytes);
    auto report = [&](const char* name, double s) {
      std::printf("n=%5d k=%5d  %-40s %8.2f us  %7.1f GB/s\n", sh.n, sh.k, name, s * 1e6, bytes / s * 1e-9);
    };
    report("linear U=4 one-pass grid", time([&] {
             linear_read<4><<<unsigned((n16 + 1023) / 1024), 256>>>((const uint4*)w, n16, sink);
           }));
    report("linear U=4 grid-stride 8/SM", time([&] { linear_read<4><<<sms * 8, 256>>>((const uint4*)w, n16, sink); }));
    report("linear U=8 grid-stride 8/SM", time([&] { linear_read<8><<<sms * 8, 256>>>((const uint4*)w, n16, sink); }));
    CUtensorMap map{};
    tc::gl<tc::bf16> g{reinterpret_cast<tc::bf16*>(w), sh.n, sh.k, sh.k};
    const std::string err = tc::make_tma_map(&map, g, 64, 64);
    if (!err.empty()) std::printf("map: %s\n", err.c_str());
    const int tiles = sh.n / 64;  // of 64 rows
    auto tma = [&](auto stages_c, auto panels_c, int splits, auto rows_c,
                   const CUtensorMap* m = nullptr, const char* tag = "") {
      constexpr int S = decltype(stages_c)::value, P = decltype(panels_c)::value, BR = decltype(rows_c)::value;
      const size_t smem = size_t(S) * P * BR * 128 + 1024;
      cudaFuncSetAttribute(tma_tiles<S, P, BR>, cudaFuncAttributeMaxDynamicSharedMemorySize, int(smem));
      char name[96];
      std::snprintf(name, sizeof name, "tma tiles %dx64 %d stages x %d panels, %d splits%s", BR, S, P, splits, tag);
      report(name, time([&] { tma_tiles<S, P, BR><<<sh.n / BR * splits, 32, smem>>>(m ? *m : map, sh.k, splits); }));
    };
    const int splits = std::max(1, sms / tiles);  // and twice that below
    tma(std::integral_constant<int, 24>{}, std::integral_constant<int, 1>{}, splits, std::integral_constant<int, 64>{});
    tma(std::integral_constant<int, 6>{}, std::integral_constant<int, 4>{}, splits, std::integral_constant<int, 64>{});
    tma(std::integral_constant<int, 6>{}, std::integral_constant<int, 4>{}, splits * 2, std::integral_constant<int, 64>{});
    tma(std::integral_constant<int, 12>{}, std::integral_constant<int, 2>{}, splits * 2, std::integral_constant<int, 64>{});
    // L2 sector promotion of the map (the GEMMs use 256B) and taller boxes.
    for (auto promo : {CU_TENSOR_MAP_L2_PROMOTION_NONE, CU_TENSOR_MAP_L2_PROMOTION_L2_128B}) {
      CUtensorMap pm{};
      const cuuint64_t dims[2] = {cuuint64_t(sh.k), cuuint64_t(sh.n)};
      const cuuint64_t strides[1] = {cuuint64_t(sh.k) * 2};
      const cuuint32_t box[2] = {64, 64}, es[2] = {1, 1};
      tc::tensor_map_encoder()(&pm, CU_TENSOR_MAP_DATA_TYPE_BFLOAT16, 2, w, dims, strides, box, es,
                               CU_TENSOR_MAP_INTERLEAVE_NONE, CU_TENSOR_MAP_SWIZZLE_128B, promo,
                               CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE);
      const char* tag = promo == CU_TENSOR_MAP_L2_PROMOTION_NONE ? ", promotion none" : ", promotion 128B";
      tma(std::integral_constant<int, 6>{}, std::integral_constant<int, 4>{}, splits, std::integral_constant<int, 64>{},
          &pm, tag);
    }
    for (int br : {128, 256}) {
      CUtensorMap tm{};
      tc::make_tma_map(&tm, g, br, 64);
      if (br == 128)
        tma(std::integral_constant<int, 6>{}, std::integral_constant<int, 2>{}, splits, std::integral_constant<int, 128>{}, &tm);
      else
        tma(std::integral_constant<int, 6>{}, std::integral_constant<int, 1>{}, splits, std::integral_constant<int, 256>{}, &tm);
    }
    for (uint32_t chunk : {16384u, 32768u}) {
      constexpr int S = 6;
      cudaFuncSetAttribute(bulk_rows<S>, cudaFuncAttributeMaxDynamicSharedMemorySize, int(S * chunk));
      char name[64];
      std::snprintf(name, sizeof name, "bulk rows %u KiB x %d", chunk / 1024, S);
      report(name, time([&] { bulk_rows<S><<<tiles, 32, S * chunk>>>(w, bytes / tiles, chunk); }));
    }
    cudaFree(w);
  }
  const cudaError_t err = cudaGetLastError();
  std::printf("last error: %s\n", cudaGetErrorString(err));
  return err == cudaSuccess ? 0 : 1;
}
