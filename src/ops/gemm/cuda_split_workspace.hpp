// The split-K workspace and tile counters of the Hopper gemm kernels (cuda.wgmma, cuda.wgmma.skinny,
// cuda.wgmma.fp8): f32 partial tiles and one arrival counter per tile, grown on demand and kept for
// the process. Launches on one stream are ordered and each leaves its counters at zero, so one
// workspace serves every kernel; concurrent launches on several streams would need one each (not
// needed by the harness).
#pragma once

#include <cuda_runtime.h>

#include <cstddef>
#include <mutex>
#include <string>

#include "tessel/core/status.hpp"

namespace tessel::gemm {

struct SplitWorkspace {
  std::mutex mutex;
  float* partials = nullptr;
  size_t partial_bytes = 0;
  int* counters = nullptr;  // zero between launches
  size_t counter_count = 0;

  // Grows the partials to `bytes` and the counters to `counters_needed` (zeroed); on failure returns
  // the CUDA call that failed, named for `impl`.
  Status ensure(const std::string& impl, size_t bytes, size_t counters_needed) {
    std::lock_guard<std::mutex> lock(mutex);
    auto failed = [&](const char* call, cudaError_t e) {
      return Status::error(StatusCode::backend_error, "gemm", impl + ": " + call, cudaGetErrorString(e));
    };
    if (bytes > partial_bytes) {
      if (partials) cudaFree(partials);
      partials = nullptr;
      partial_bytes = 0;
      if (cudaError_t e = cudaMalloc(&partials, bytes); e != cudaSuccess) return failed("cudaMalloc", e);
      partial_bytes = bytes;
    }
    if (counters_needed > counter_count) {
      if (counters) cudaFree(counters);
      counters = nullptr;
      counter_count = 0;
      if (cudaError_t e = cudaMalloc(&counters, counters_needed * sizeof(int)); e != cudaSuccess)
        return failed("cudaMalloc", e);
      if (cudaError_t e = cudaMemset(counters, 0, counters_needed * sizeof(int)); e != cudaSuccess)
        return failed("cudaMemset", e);
      counter_count = counters_needed;
    }
    return {};
  }
};

// The process's one workspace (cuda_gemm_bf16.cu).
SplitWorkspace& split_workspace();

}  // namespace tessel::gemm
