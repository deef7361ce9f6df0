// The CUDA backend: device memory, copies, fills, a non-blocking stream, event timers, an L2 flush, and
// the probe that measures copy bandwidth and the cuBLAS bf16 rate.
#include "tessel/runtime/cuda_backend.hpp"

#include "tessel/runtime/probe.hpp"

#include <cublas_v2.h>
#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cstring>
#include <vector>

namespace tessel {
namespace {

Status cuda_error(const char* call, cudaError_t e) {
  return Status::error(StatusCode::backend_error, "cuda", call, cudaGetErrorString(e));
}

#define TESSEL_CUDA(call)                                                    \
  do {                                                                       \
    if (cudaError_t e_ = (call); e_ != cudaSuccess) return cuda_error(#call, e_); \
  } while (0)

// Holds the stream for `ns` nanoseconds. Enqueued after the L2 flush and before a timed region, it keeps
// the GPU busy while the host enqueues the timed call, so the events measure device work and not the
// host's launch or library overhead (the same idea as nvbench's blocking kernel).
__global__ void hold_stream_kernel(uint64_t ns) {
  uint64_t start = 0, now = 0;
  asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(start));
  do {
    __nanosleep(1000);
    asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(now));
  } while (now - start < ns);
}

// Reads `words` 16-byte words and stores nothing unless their XOR is a value no fill produces (the
// flush buffer is zeroed once), so the loads cannot be dropped and L2 is left holding clean lines.
__global__ void read_flush_kernel(const uint4* src, size_t words, unsigned* sink) {
  unsigned acc = 0;
  for (size_t i = blockIdx.x * size_t(blockDim.x) + threadIdx.x; i < words; i += size_t(gridDim.x) * blockDim.x) {
    const uint4 w = src[i];
    acc ^= w.x ^ w.y ^ w.z ^ w.w;
  }
  if (acc == 0xdeadbeefu) *sink = acc;
}

// Byte i of the destination gets pattern byte i % pattern_bytes. The pattern is widened to 8 bytes
// (every allowed width divides 8), so aligned destinations are written one 8-byte word per thread.
__global__ void fill_words_kernel(uint64_t* dst, uint64_t word, size_t words) {
  for (size_t i = blockIdx.x * size_t(blockDim.x) + threadIdx.x; i < words; i += size_t(gridDim.x) * blockDim.x)
    dst[i] = word;
}

__global__ void fill_bytes_kernel(unsigned char* dst, uint64_t word, size_t pattern_bytes, size_t bytes) {
  const auto* pat = reinterpret_cast<const unsigned char*>(&word);
  for (size_t i = blockIdx.x * size_t(blockDim.x) + threadIdx.x; i < bytes; i += size_t(gridDim.x) * blockDim.x)
    dst[i] = pat[i % pattern_bytes];
}

// Values in [-1, 1) from a hash of the index, so the probe's gemm never multiplies zeros.
__global__ void fill_random_bf16_kernel(__nv_bfloat16* dst, size_t count, uint32_t seed) {
  for (size_t i = blockIdx.x * size_t(blockDim.x) + threadIdx.x; i < count; i += size_t(gridDim.x) * blockDim.x) {
    uint32_t x = static_cast<uint32_t>(i) * 2654435761u ^ seed;
    x ^= x >> 16;
    x *= 0x7feb352du;
    x ^= x >> 15;
    x *= 0x846ca68bu;
    x ^= x >> 16;
    dst[i] = __float2bfloat16(static_cast<float>(x >> 8) * (2.0f / 16777216.0f) - 1.0f);
  }
}

class CudaTimer final : public Backend::Timer {
 public:
  explicit CudaTimer(cudaStream_t stream) : stream_(stream) {
    ok_ = cudaEventCreate(&start_) == cudaSuccess && cudaEventCreate(&stop_) == cudaSuccess;
  }
  ~CudaTimer() override {
    if (start_) cudaEventDestroy(start_);
    if (stop_) cudaEventDestroy(stop_);
  }
  Status start() override {
    if (!ok_) return Status::error(StatusCode::backend_error, "cuda", "cudaEventCreate", "timer events unavailable");
    TESSEL_CUDA(cudaEventRecord(start_, stream_));
    return {};
  }
  Status stop() override {
    TESSEL_CUDA(cudaEventRecord(stop_, stream_));
    return {};
  }
  Result<double> seconds() override {
    TESSEL_CUDA(cudaEventSynchronize(stop_));
    float ms = 0;
    TESSEL_CUDA(cudaEventElapsedTime(&ms, start_, stop_));
    return double(ms) * 1e-3;
  }

 private:
  cudaStream_t stream_;
  cudaEvent_t start_ = nullptr, stop_ = nullptr;
  bool ok_ = false;
};

class CudaBackend final : public Backend {
 public:
  CudaBackend(int device, cudaStream_t stream, std::string name, size_t l2_bytes)
      : device_(device), stream_(stream), name_(std::move(name)), l2_bytes_(l2_bytes) {}
  ~CudaBackend() override {
    if (flush_) cudaFree(flush_);
    if (stream_) cudaStreamDestroy(stream_);
  }

  Device device() const override { return Device::cuda; }
  std::string name() const override { return name_; }

  // cudaMalloc returns 256-byte aligned memory, which is what the interface promises.
  Result<void*> alloc(size_t bytes) override {
    void* p = nullptr;
    TESSEL_CUDA(cudaMalloc(&p, std::max<size_t>(bytes, 1)));
    return p;
  }
  void free(void* p) override {
    if (p) cudaFree(p);
  }
  Status copy_to_device(void* dst, const void* src, size_t bytes) override {
    TESSEL_CUDA(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, stream_));
    TESSEL_CUDA(cudaStreamSynchronize(stream_));
    return {};
  }
  Status copy_to_host(void* dst, const void* src, size_t bytes) override {
    TESSEL_CUDA(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, stream_));
    TESSEL_CUDA(cudaStreamSynchronize(stream_));
    return {};
  }
  Status fill_bytes(void* dst, unsigned char value, size_t bytes) override {
    TESSEL_CUDA(cudaMemsetAsync(dst, value, bytes, stream_));
    return {};
  }
  Status fill_pattern(void* dst, const void* pattern, size_t pattern_bytes, size_t bytes) override {
    if (pattern_bytes != 1 && pattern_bytes != 2 && pattern_bytes != 4 && pattern_bytes != 8)
      return Status::invalid("cuda", "pattern_bytes", "must be 1, 2, 4 or 8");
    if (bytes == 0) return {};
    uint64_t word = 0;
    auto* w = reinterpret_cast<unsigned char*>(&word);
    for (size_t i = 0; i < 8; ++i) w[i] = static_cast<const unsigned char*>(pattern)[i % pattern_bytes];
    const int threads = 256;
    if (reinterpret_cast<uintptr_t>(dst) % 8 == 0 && bytes % 8 == 0) {
      const size_t words = bytes / 8;
      const auto blocks = static_cast<unsigned>(std::min<size_t>((words + threads - 1) / threads, 65535));
      fill_words_kernel<<<blocks, threads, 0, stream_>>>(static_cast<uint64_t*>(dst), word, words);
    } else {
      const auto blocks = static_cast<unsigned>(std::min<size_t>((bytes + threads - 1) / threads, 65535));
      fill_bytes_kernel<<<blocks, threads, 0, stream_>>>(static_cast<unsigned char*>(dst), word, pattern_bytes, bytes);
    }
    TESSEL_CUDA(cudaGetLastError());
    return {};
  }
  Status synchronize() override {
    TESSEL_CUDA(cudaStreamSynchronize(stream_));
    return {};
  }
  // Reading a buffer twice the size of L2 leaves none of a previous repetition's lines there, and
  // writes back the dirty ones (the outputs, their poison) before the timed call. Reading, not
  // writing: a written flush buffer left L2 full of dirty lines, whose write-back the timed kernel
  // then paid for as it evicted them (up to the L2's size in extra DRAM writes; measured in
  // bench/results/h200/session4/). The GPU cannot evict chosen lines, so `live` is not needed.
  Status flush_cache(std::span<const Region> /*live*/) override {
    if (flush_ == nullptr) {
      flush_bytes_ = std::max<size_t>(2 * l2_bytes_, size_t{64} << 20) / 16 * 16;
      TESSEL_CUDA(cudaMalloc(&flush_, flush_bytes_ + 16));
      TESSEL_CUDA(cudaMemsetAsync(flush_, 0, flush_bytes_ + 16, stream_));
    }
    const size_t words = flush_bytes_ / 16;
    auto* sink = reinterpret_cast<unsigned*>(static_cast<char*>(flush_) + flush_bytes_);
    read_flush_kernel<<<1024, 512, 0, stream_>>>(static_cast<const uint4*>(flush_), words, sink);
    TESSEL_CUDA(cudaGetLastError());
    hold_stream_kernel<<<1, 1, 0, stream_>>>(200'000);
    TESSEL_CUDA(cudaGetLastError());
    return {};
  }
  void* stream() override { return stream_; }
  std::unique_ptr<Timer> make_timer() override { return std::make_unique<CudaTimer>(stream_); }

 private:
  int device_;
  cudaStream_t stream_;
  std::string name_;
  size_t l2_bytes_;
  void* flush_ = nullptr;
  size_t flush_bytes_ = 0;
};

// Events owned for the length of one measurement.
struct EventPair {
  cudaEvent_t a = nullptr, b = nullptr;
  ~EventPair() {
    if (a) cudaEventDestroy(a);
    if (b) cudaEventDestroy(b);
  }
};

template <class F>
Result<double> median_seconds(cudaStream_t stream, int reps, F&& body) {
  EventPair ev;
  TESSEL_CUDA(cudaEventCreate(&ev.a));
  TESSEL_CUDA(cudaEventCreate(&ev.b));
  std::vector<double> times;
  for (int i = 0; i < reps; ++i) {
    TESSEL_CUDA(cudaEventRecord(ev.a, stream));
    TESSEL_RETURN_IF_ERROR(body());
    TESSEL_CUDA(cudaEventRecord(ev.b, stream));
    TESSEL_CUDA(cudaEventSynchronize(ev.b));
    float ms = 0;
    TESSEL_CUDA(cudaEventElapsedTime(&ms, ev.a, ev.b));
    times.push_back(double(ms) * 1e-3);
  }
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

// Frees device buffers however the probe leaves.
struct DeviceBuffers {
  std::vector<void*> ptrs;
  ~DeviceBuffers() {
    for (void* p : ptrs) cudaFree(p);
  }
  Result<void*> get(size_t bytes) {
    void* p = nullptr;
    TESSEL_CUDA(cudaMalloc(&p, bytes));
    ptrs.push_back(p);
    return p;
  }
};

}  // namespace

std::unique_ptr<Backend> make_cuda_backend(std::string* why_not) {
  auto fail = [&](std::string why) -> std::unique_ptr<Backend> {
    if (why_not) *why_not = std::move(why);
    return nullptr;
  };
  int count = 0;
  if (cudaError_t e = cudaGetDeviceCount(&count); e != cudaSuccess)
    return fail(std::string("cuda: cudaGetDeviceCount: ") + cudaGetErrorString(e));
  if (count == 0) return fail("cuda: no CUDA device");
  const int device = 0;
  if (cudaError_t e = cudaSetDevice(device); e != cudaSuccess)
    return fail(std::string("cuda: cudaSetDevice: ") + cudaGetErrorString(e));
  cudaDeviceProp prop{};
  if (cudaError_t e = cudaGetDeviceProperties(&prop, device); e != cudaSuccess)
    return fail(std::string("cuda: cudaGetDeviceProperties: ") + cudaGetErrorString(e));
  cudaStream_t stream = nullptr;
  if (cudaError_t e = cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking); e != cudaSuccess)
    return fail(std::string("cuda: cudaStreamCreateWithFlags: ") + cudaGetErrorString(e));
  return std::make_unique<CudaBackend>(device, stream, std::string("cuda:0 ") + prop.name,
                                       static_cast<size_t>(prop.l2CacheSize));
}

Result<GpuProbe> probe_cuda(bool quick) {
  GpuProbe g;
  int count = 0;
  TESSEL_CUDA(cudaGetDeviceCount(&count));
  if (count == 0) return Status::error(StatusCode::backend_error, "cuda", "probe", "no CUDA device");
  TESSEL_CUDA(cudaSetDevice(g.device));
  cudaDeviceProp prop{};
  TESSEL_CUDA(cudaGetDeviceProperties(&prop, g.device));
  g.name = prop.name;
  g.cc_major = prop.major;
  g.cc_minor = prop.minor;
  g.sms = prop.multiProcessorCount;
  g.l2_bytes = static_cast<size_t>(prop.l2CacheSize);
  g.memory_bytes = prop.totalGlobalMem;
  g.smem_per_block_optin = prop.sharedMemPerBlockOptin;
  TESSEL_CUDA(cudaDriverGetVersion(&g.driver_version));
  TESSEL_CUDA(cudaRuntimeGetVersion(&g.runtime_version));

  cudaStream_t stream = nullptr;
  TESSEL_CUDA(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
  struct StreamGuard {
    cudaStream_t s;
    ~StreamGuard() { cudaStreamDestroy(s); }
  } stream_guard{stream};

  // ---- Copy bandwidth: a copy far larger than L2, counted as bytes read plus bytes written.
  {
    DeviceBuffers buf;
    g.copy_bytes = quick ? size_t{256} << 20 : size_t{1} << 30;
    Result<void*> src = buf.get(g.copy_bytes);
    if (!src.ok()) return src.status();
    Result<void*> dst = buf.get(g.copy_bytes);
    if (!dst.ok()) return dst.status();
    TESSEL_CUDA(cudaMemsetAsync(*src, 0x3c, g.copy_bytes, stream));
    auto copy = [&]() -> Status {
      TESSEL_CUDA(cudaMemcpyAsync(*dst, *src, g.copy_bytes, cudaMemcpyDeviceToDevice, stream));
      return {};
    };
    for (int i = 0; i < 2; ++i) TESSEL_RETURN_IF_ERROR(copy());
    g.copy_reps = quick ? 5 : 15;
    Result<double> t = median_seconds(stream, g.copy_reps, copy);
    if (!t.ok()) return t.status();
    g.copy_gbps = 2.0 * double(g.copy_bytes) / *t * 1e-9;
  }

  // ---- cuBLAS bf16: 8192^3 on random data. Compute-bound, so L2 state does not matter.
  {
    DeviceBuffers buf;
    g.gemm_size = 8192;
    const size_t n = size_t(g.gemm_size);
    const size_t elems = n * n;
    Result<void*> a = buf.get(elems * 2), b = buf.get(elems * 2), c = buf.get(elems * 2);
    for (auto* r : {&a, &b, &c})
      if (!r->ok()) return r->status();
    fill_random_bf16_kernel<<<1024, 256, 0, stream>>>(static_cast<__nv_bfloat16*>(*a), elems, 1u);
    fill_random_bf16_kernel<<<1024, 256, 0, stream>>>(static_cast<__nv_bfloat16*>(*b), elems, 2u);
    TESSEL_CUDA(cudaGetLastError());
    cublasHandle_t handle = nullptr;
    if (cublasCreate(&handle) != CUBLAS_STATUS_SUCCESS)
      return Status::error(StatusCode::backend_error, "cuda", "cublasCreate", "failed");
    struct HandleGuard {
      cublasHandle_t h;
      ~HandleGuard() { cublasDestroy(h); }
    } handle_guard{handle};
    cublasSetStream(handle, stream);
    const float alpha = 1.0f, beta = 0.0f;
    const int dim = g.gemm_size;
    auto gemm = [&]() -> Status {
      const cublasStatus_t st = cublasGemmEx(handle, CUBLAS_OP_N, CUBLAS_OP_N, dim, dim, dim, &alpha, *a, CUDA_R_16BF, dim,
                                             *b, CUDA_R_16BF, dim, &beta, *c, CUDA_R_16BF, dim, CUBLAS_COMPUTE_32F,
                                             CUBLAS_GEMM_DEFAULT);
      if (st != CUBLAS_STATUS_SUCCESS)
        return Status::error(StatusCode::backend_error, "cuda", "cublasGemmEx", "status " + std::to_string(int(st)));
      return {};
    };
    for (int i = 0; i < 3; ++i) TESSEL_RETURN_IF_ERROR(gemm());
    g.gemm_reps = quick ? 5 : 15;
    Result<double> t = median_seconds(stream, g.gemm_reps, gemm);
    if (!t.ok()) return t.status();
    g.bf16_tflops = 2.0 * double(n) * double(n) * double(n) / *t * 1e-12;
  }
  return g;
}

// The probe's GPU half (probe.hpp): the same measurements, in the harness's shape.
Result<GpuCeilings> probe_gpu_ceilings(bool quick) {
  Result<GpuProbe> g = probe_cuda(quick);
  if (!g.ok()) return g.status();
  GpuCeilings c;
  c.name = g->name;
  c.sms = g->sms;
  c.l2_bytes = g->l2_bytes;
  c.copy_gbps = g->copy_gbps;
  c.bf16_tflops = g->bf16_tflops;
  return c;
}

}  // namespace tessel
