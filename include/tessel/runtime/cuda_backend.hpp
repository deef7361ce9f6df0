// The CUDA backend (memory, copies, stream, event timer, L2 flush) and the GPU ceiling probe.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "tessel/runtime/backend.hpp"

namespace tessel {

// The backend for CUDA device 0, with its own non-blocking stream. nullptr, with the reason in
// *why_not, when there is no device or the runtime cannot start. Only defined in CUDA builds.
std::unique_ptr<Backend> make_cuda_backend(std::string* why_not = nullptr);

// What `tessel probe` reports about the GPU: properties read from the device, and two ceilings it
// measures, which bench rows are judged against.
struct GpuProbe {
  std::string name;
  int device = 0;
  int cc_major = 0, cc_minor = 0;
  int sms = 0;
  size_t l2_bytes = 0;
  size_t memory_bytes = 0;
  size_t smem_per_block_optin = 0;
  int driver_version = 0, runtime_version = 0;
  // Device-to-device copy of copy_bytes, counting bytes read plus bytes written; median of copy_reps.
  double copy_gbps = 0;
  size_t copy_bytes = 0;
  int copy_reps = 0;
  // cuBLAS bf16 gemm 8192^3 (f32 accumulation) on random data; median of gemm_reps.
  double bf16_tflops = 0;
  int gemm_size = 0;
  int gemm_reps = 0;
};

// Measures the ceilings on device 0: about a second, or less with `quick` (fewer, smaller runs).
// probe_gpu_ceilings (probe.hpp) reports the same numbers to the harness.
Result<GpuProbe> probe_cuda(bool quick = false);

}  // namespace tessel
