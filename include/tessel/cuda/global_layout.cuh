// Global layouts: a row-major matrix in device memory and the TMA tensor map that tiles it.
#pragma once

#include <cuda.h>  // CUtensorMap and its enums only; the driver entry point is fetched at run time
#include <cudaTypedefs.h>

#include <cstdint>
#include <string>

#include "tessel/cuda/common.cuh"

namespace tessel::cuda {

// gl<T>: rows x cols elements of T, row-major, with a row stride in elements. It is what a kernel's
// launcher knows about a matrix before it turns it into a tensor map or a raw pointer.
template <class T>
struct gl {
  T* data = nullptr;
  int64_t rows = 0;
  int64_t cols = 0;
  int64_t row_stride = 0;  // elements

  // TMA reads and writes whole 16-byte units: the base and every row must start on a 16-byte boundary.
  bool tma_compatible() const {
    return (reinterpret_cast<uintptr_t>(data) % 16 == 0) && ((row_stride * int64_t(sizeof(T))) % 16 == 0);
  }
};

template <class T>
constexpr CUtensorMapDataType tma_dtype();
template <>
constexpr CUtensorMapDataType tma_dtype<bf16>() { return CU_TENSOR_MAP_DATA_TYPE_BFLOAT16; }
template <>
constexpr CUtensorMapDataType tma_dtype<float>() { return CU_TENSOR_MAP_DATA_TYPE_FLOAT32; }
template <>
constexpr CUtensorMapDataType tma_dtype<uint8_t>() { return CU_TENSOR_MAP_DATA_TYPE_UINT8; }
// TMA only moves bytes: fp8 travels as UINT8 (no out-of-bounds fill value matters: it fills zeros).
template <>
constexpr CUtensorMapDataType tma_dtype<fp8e4m3>() { return CU_TENSOR_MAP_DATA_TYPE_UINT8; }

// cuTensorMapEncodeTiled comes from the driver through the runtime's entry-point query, so nothing
// links against libcuda. Returns nullptr when the driver has no such entry point.
inline PFN_cuTensorMapEncodeTiled_v12000 tensor_map_encoder() {
  static PFN_cuTensorMapEncodeTiled_v12000 fn = [] {
    void* p = nullptr;
    cudaDriverEntryPointQueryResult q{};
    if (cudaGetDriverEntryPointByVersion("cuTensorMapEncodeTiled", &p, 12000, cudaEnableDefault, &q) !=
            cudaSuccess ||
        q != cudaDriverEntryPointSuccess)
      return static_cast<PFN_cuTensorMapEncodeTiled_v12000>(nullptr);
    return reinterpret_cast<PFN_cuTensorMapEncodeTiled_v12000>(p);
  }();
  return fn;
}

// How much L2 fetches from DRAM per request of a TMA load: the request's own sectors, or the whole
// aligned 128- or 256-byte block around them. Reading a weight in 64-row boxes of 128-byte rows, a
// load-only stream ran 5-6% faster without the 256-byte promotion (none or 128 bytes alike: n = k =
// 8192, 4.01 against 3.78 TB/s; n = 28672, k = 4096, 4.14 against 3.94; H200, session 21,
// bench/results/h200/session21/read-patterns.cu), and the skinny GEMM that reads W that way 3-4%
// faster with 128 (its tunable l2_promotion).
enum class L2Promotion { none = 0, b128 = 128, b256 = 256 };

// Encodes a 2-D tensor map over `g` whose box is box_rows x box_cols elements, stored in shared memory
// with the 128-byte swizzle (box_cols * sizeof(T) must then be 128 bytes or less). Loads that fall
// outside the matrix read zeros and stores there are dropped, which is how kernels handle ragged
// edges without branches. Returns an empty string or the reason it failed.
template <class T>
std::string make_tma_map(CUtensorMap* map, const gl<T>& g, uint32_t box_rows, uint32_t box_cols,
                         bool swizzle_128b = true, L2Promotion promotion = L2Promotion::b256) {
  if (!g.tma_compatible())
    return "TMA needs a 16-byte aligned base and a row stride that is a multiple of 16 bytes";
  if (swizzle_128b && box_cols * sizeof(T) > 128) return "a 128-byte swizzled box is at most 128 bytes wide";
  if (box_rows > 256 || box_cols > 256) return "a TMA box side is at most 256 elements";
  auto encode = tensor_map_encoder();
  if (encode == nullptr) return "the driver has no cuTensorMapEncodeTiled";
  const cuuint64_t dims[2] = {static_cast<cuuint64_t>(g.cols), static_cast<cuuint64_t>(g.rows)};
  const cuuint64_t strides[1] = {static_cast<cuuint64_t>(g.row_stride) * sizeof(T)};
  const cuuint32_t box[2] = {box_cols, box_rows};
  const cuuint32_t element_strides[2] = {1, 1};
  const CUresult r = encode(map, tma_dtype<T>(), 2, g.data, dims, strides, box, element_strides,
                            CU_TENSOR_MAP_INTERLEAVE_NONE,
                            swizzle_128b ? CU_TENSOR_MAP_SWIZZLE_128B : CU_TENSOR_MAP_SWIZZLE_NONE,
                            promotion == L2Promotion::none   ? CU_TENSOR_MAP_L2_PROMOTION_NONE
                            : promotion == L2Promotion::b128 ? CU_TENSOR_MAP_L2_PROMOTION_L2_128B
                                                             : CU_TENSOR_MAP_L2_PROMOTION_L2_256B,
                            CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE);
  if (r != CUDA_SUCCESS) return "cuTensorMapEncodeTiled failed with CUresult " + std::to_string(int(r));
  return {};
}

}  // namespace tessel::cuda
