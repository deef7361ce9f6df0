// The CPU backend: aligned host memory, a steady-clock timer, and a cache flush for benchmarks.
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <mutex>
#include <vector>

#include "tessel/runtime/backend.hpp"

#ifdef TESSEL_WITH_CUDA
#include "tessel/runtime/cuda_backend.hpp"
#endif

namespace tessel {
namespace {

size_t last_level_cache_bytes() {
  size_t best = 0;
  for (int i = 0; i < 8; ++i) {
    std::ifstream f("/sys/devices/system/cpu/cpu0/cache/index" + std::to_string(i) + "/size");
    std::string s;
    if (!(f >> s) || s.empty()) continue;
    size_t v = std::strtoull(s.c_str(), nullptr, 10);
    if (s.back() == 'K') v <<= 10;
    if (s.back() == 'M') v <<= 20;
    best = std::max(best, v);
  }
  return best ? best : size_t{32} << 20;
}

class CpuBackend final : public Backend {
 public:
  Device device() const override { return Device::cpu; }
  std::string name() const override { return "cpu"; }
  Result<void*> alloc(size_t bytes) override {
    void* p = std::aligned_alloc(256, (std::max<size_t>(bytes, 1) + 255) / 256 * 256);
    if (!p) return Status::error(StatusCode::backend_error, "cpu", "alloc", "out of memory allocating " + std::to_string(bytes) + " bytes");
    return p;
  }
  void free(void* p) override { std::free(p); }
  Status copy_to_device(void* dst, const void* src, size_t bytes) override {
    std::memcpy(dst, src, bytes);
    return {};
  }
  Status copy_to_host(void* dst, const void* src, size_t bytes) override {
    std::memcpy(dst, src, bytes);
    return {};
  }
  Status fill_bytes(void* dst, unsigned char value, size_t bytes) override {
    std::memset(dst, value, bytes);
    return {};
  }
  Status fill_pattern(void* dst, const void* pattern, size_t pattern_bytes, size_t bytes) override {
    auto* d = static_cast<unsigned char*>(dst);
    for (size_t i = 0; i < bytes; ++i) d[i] = static_cast<const unsigned char*>(pattern)[i % pattern_bytes];
    return {};
  }
  Status synchronize() override { return {}; }

  // Two steps. Streaming a scratch buffer evicts the private caches and a typical LLC. But a VM can
  // report a huge shared LLC (480 MiB here), which no per-repetition stream can clear cheaply, so we
  // also write back and invalidate exactly the lines the next run touches; that guarantees a cold
  // start for the data that matters whatever the LLC size.
  Status flush_cache(std::span<const Region> live) override {
    std::call_once(once_, [&] { scratch_.assign(std::min<size_t>(2 * last_level_cache_bytes(), size_t{64} << 20), 1); });
    unsigned char acc = 0;
    for (size_t i = 0; i < scratch_.size(); i += 64) {
      scratch_[i] = static_cast<unsigned char>(scratch_[i] + 1);
      acc = static_cast<unsigned char>(acc ^ scratch_[i]);
    }
    sink_ = acc;
#if defined(__x86_64__) || defined(__i386__)
    for (const Region& r : live) {
      const auto* p = static_cast<const char*>(r.data);
      for (size_t off = 0; off < r.bytes; off += 64) __builtin_ia32_clflush(p + off);
    }
    __builtin_ia32_mfence();
#else
    (void)live;
#endif
    return {};
  }

  class SteadyTimer final : public Timer {
   public:
    Status start() override {
      t0_ = std::chrono::steady_clock::now();
      return {};
    }
    Status stop() override {
      t1_ = std::chrono::steady_clock::now();
      return {};
    }
    Result<double> seconds() override { return std::chrono::duration<double>(t1_ - t0_).count(); }

   private:
    std::chrono::steady_clock::time_point t0_, t1_;
  };
  std::unique_ptr<Timer> make_timer() override { return std::make_unique<SteadyTimer>(); }

 private:
  std::once_flag once_;
  std::vector<unsigned char> scratch_;
  volatile unsigned char sink_ = 0;
};

}  // namespace

Backend* backend_for(Device d, std::string* why_not) {
  if (d == Device::cpu) {
    static CpuBackend cpu;
    return &cpu;
  }
#ifdef TESSEL_WITH_CUDA
  static std::string cuda_why;
  static std::unique_ptr<Backend> cuda = make_cuda_backend(&cuda_why);
  if (!cuda && why_not) *why_not = cuda_why;
  return cuda.get();
#else
  if (why_not) *why_not = "this build of tessel has no CUDA backend (configure with the cuda preset)";
  return nullptr;
#endif
}

}  // namespace tessel
