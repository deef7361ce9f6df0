// Helpers for the tile-layer tests: skip without a Hopper GPU, check CUDA calls, random bf16 data.
#pragma once

#include <cuda_bf16.h>
#include <cuda_runtime.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <vector>

namespace tessel::cuda_test {

// True when device 0 is a Hopper GPU (compute capability 9.x), which wgmma and TMA need.
inline bool have_hopper() {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess || n == 0) return false;
  cudaDeviceProp p{};
  if (cudaGetDeviceProperties(&p, 0) != cudaSuccess) return false;
  return p.major == 9;
}

#define TESSEL_REQUIRE_HOPPER()                                                            \
  do {                                                                                     \
    if (!::tessel::cuda_test::have_hopper()) GTEST_SKIP() << "needs a Hopper (sm_90) GPU"; \
  } while (0)

#define TESSEL_CHECK_CUDA(call) ASSERT_EQ((call), cudaSuccess) << #call << ": " << cudaGetErrorString(cudaGetLastError())

// Random bf16 values in [-1, 1], never all zero, as host bits and as float.
struct RandomBf16 {
  std::vector<__nv_bfloat16> bits;
  std::vector<float> values;
  RandomBf16(size_t count, uint32_t seed) : bits(count), values(count) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
    for (size_t i = 0; i < count; ++i) {
      bits[i] = __float2bfloat16(dist(rng));
      values[i] = __bfloat162float(bits[i]);
    }
  }
};

// A device buffer that frees itself.
template <class T>
struct DeviceArray {
  T* ptr = nullptr;
  size_t count = 0;
  explicit DeviceArray(size_t n) : count(n) {
    if (cudaMalloc(&ptr, n * sizeof(T)) != cudaSuccess) ptr = nullptr;
  }
  ~DeviceArray() {
    if (ptr) cudaFree(ptr);
  }
  DeviceArray(const DeviceArray&) = delete;
  DeviceArray& operator=(const DeviceArray&) = delete;
  cudaError_t upload(const std::vector<T>& h) { return cudaMemcpy(ptr, h.data(), h.size() * sizeof(T), cudaMemcpyHostToDevice); }
  std::vector<T> download() const {
    std::vector<T> h(count);
    if (cudaMemcpy(h.data(), ptr, count * sizeof(T), cudaMemcpyDeviceToHost) != cudaSuccess) h.clear();
    return h;
  }
};

}  // namespace tessel::cuda_test
