// Shared by the cuda.fused implementations (src/ops/<op>/cuda.cu): the checks every one makes on the
// tensors it is given, and a CUDA launch error turned into a Status naming the op.
#pragma once

#include <cuda_runtime.h>

#include <span>
#include <string>

#include "tessel/fuse/cuda.hpp"
#include "tessel/fuse/fuse.hpp"
#include "tessel/runtime/op.hpp"

namespace tessel::fused_cuda {

// `want` tensors, all in CUDA device memory and contiguous: the chains index rows by their
// length. A wrong count or a host pointer is the caller's error; a strided view is a limit of ours.
inline Status check_tensors(const char* op, std::span<const TensorView> t, size_t want, const char* names) {
  if (t.size() != want) return Status::invalid(op, "tensors", std::string("cuda.fused expects ") + names);
  for (const TensorView& v : t) {
    if (v.device != Device::cuda) return Status::invalid(op, "tensors", "cuda.fused needs CUDA device memory");
    if (!v.is_contiguous()) return Status::unsupported(op, "tensors", "cuda.fused needs contiguous tensors");
  }
  return {};
}

inline Status launched(const char* op, cudaError_t e) {
  if (e == cudaSuccess) return {};
  return Status::error(StatusCode::backend_error, op, "cuda.fused", std::string("kernel launch: ") + cudaGetErrorString(e));
}

// Grids count blocks in 32 bits: a few billion rows is the limit, said up front by supports().
inline Support fits(int64_t rows, int64_t cols) {
  if (rows > (int64_t{1} << 31) - 1 || cols > (int64_t{1} << 40))
    return Support::no("cuda.fused: rows must stay below 2^31 and cols below 2^40");
  return Support::yes();
}

}  // namespace tessel::fused_cuda
