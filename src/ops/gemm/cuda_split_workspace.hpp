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

// Sets a launch's K split on `args` (a kernel argument struct with sched, splits, kb_per_split,
// workspace and counters): at most `wanted` splits of `k_blocks` K stages, none empty, and with more
// than one split and `partials` (false where the partials stay on chip), the workspace for every tile's
// splits of `tile_floats` f32 each.
template <class Args>
Status bind_k_split(const std::string& impl, int k_blocks, int wanted, size_t tile_floats, bool partials, Args& args) {
  const int blocks = k_blocks < 1 ? 1 : k_blocks;  // k = 0 still runs one (empty) split
  const int clamped = wanted < 1 ? 1 : wanted > blocks ? blocks : wanted;
  args.kb_per_split = (blocks + clamped - 1) / clamped;
  args.splits = (blocks + args.kb_per_split - 1) / args.kb_per_split;  // no empty split
  if (args.splits > 1 && partials) {
    SplitWorkspace& w = split_workspace();
    const size_t tiles = size_t(args.sched.total());
    const Status st = w.ensure(impl, tiles * size_t(args.splits) * tile_floats * sizeof(float), tiles);
    if (!st.ok()) return st;
    args.workspace = w.partials;
    args.counters = w.counters;
  }
  return {};
}

}  // namespace tessel::gemm
