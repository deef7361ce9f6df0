// The CPU backend: aligned host memory, a steady-clock timer, and a cache flush for benchmarks.
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <mutex>
#include <vector>

#if defined(__linux__)
#include <sys/mman.h>
#endif

#include "tessel/cpu/parallel.hpp"
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

// An environment switch, for measuring what a measure buys: on unless "0".
bool env_on(const char* name) {
  const char* v = std::getenv(name);
  return !(v && std::strcmp(v, "0") == 0);
}

constexpr size_t kHugePage = size_t{2} << 20;

class CpuBackend final : public Backend {
 public:
  Device device() const override { return Device::cpu; }
  std::string name() const override { return "cpu"; }

  // Buffers of 2 MiB or more are 2 MiB-aligned and ask for transparent huge pages. Why: a GEMV
  // streams its weights once, and with 4 KiB pages it takes a TLB miss (a page walk, nested on a
  // VM) every 4 KiB, which held low-bit GEMVs at 55-83% of the copy bandwidth `tessel probe`
  // measures (itself on huge pages). Measured side by side (bench/results/cpu/harness-pages-ab*):
  // huge pages make the GEMVs of lowbit-cpu 1.07-1.87x faster. Model runtimes map weights on huge
  // pages too, so this measures kernels as they run in practice. TESSEL_CPU_HUGEPAGES=0: off.
  Result<void*> alloc(size_t bytes) override {
    const bool huge = bytes >= kHugePage && hugepages_;
    const size_t align = huge ? kHugePage : 256;
    void* p = std::aligned_alloc(align, (std::max<size_t>(bytes, 1) + align - 1) / align * align);
    if (!p) return Status::error(StatusCode::backend_error, "cpu", "alloc", "out of memory allocating " + std::to_string(bytes) + " bytes");
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    // A hint: where THP is off it fails harmlessly and the buffer keeps 4 KiB pages.
    if (huge) madvise(p, (bytes + kHugePage - 1) / kHugePage * kHugePage, MADV_HUGEPAGE);
#endif
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
  // One copy of the pattern, then doubling copies of what is written so far: memcpy speed instead of a
  // modulo per byte (poisoning every output before every timed call is a good part of a bench).
  Status fill_pattern(void* dst, const void* pattern, size_t pattern_bytes, size_t bytes) override {
    auto* d = static_cast<unsigned char*>(dst);
    if (bytes == 0 || pattern_bytes == 0) return {};
    size_t done = std::min(pattern_bytes, bytes);
    std::memcpy(d, pattern, done);
    while (done < bytes) {
      const size_t n = std::min(done, bytes - done);  // a whole number of patterns, so the period holds
      std::memcpy(d + done, d, n);
      done += n;
    }
    return {};
  }
  Status synchronize() override { return {}; }

  // Two steps. Streaming a scratch buffer evicts the private caches and a typical LLC. But a VM can
  // report a huge shared LLC (480 MiB here), which no per-repetition stream can clear cheaply, so we
  // also write back and invalidate exactly the lines the next run touches; that guarantees a cold
  // start for the data that matters whatever the LLC size. The scratch is only read: lines it had
  // dirtied would be written back while the timed call evicts them, up to an LLC of DRAM writes
  // charged to the kernel (as on the GPU, cuda_backend.cu). Writing it cost the GEMVs 4-10% on the
  // Zen 5 VM (qgemm m=1 k=14336, 2- and 4-bit, cpu.lut and cpu.idot; rmsnorm and swiglu at 65536 x
  // 1024 within 1%), three interleaved rounds: bench/results/cpu/flush-clean-2026-12-01-session27.txt.
  Status flush_cache(std::span<const Region> live) override {
    std::call_once(once_, [&] { scratch_.assign(std::min<size_t>(2 * last_level_cache_bytes(), size_t{64} << 20), 1); });
    unsigned char acc = 0;
    for (size_t i = 0; i < scratch_.size(); i += 64) acc = static_cast<unsigned char>(acc ^ scratch_[i]);
    sink_ = acc;  // keeps the loads
#if defined(__x86_64__) || defined(__i386__)
    for (const Region& r : live) {
      const auto* p = static_cast<const char*>(r.data);
      for (size_t off = 0; off < r.bytes; off += 64) __builtin_ia32_clflush(p + off);
    }
    __builtin_ia32_mfence();
#else
    (void)live;
#endif
    // Wake the pool's workers here and have them spin for 2 ms, so the timed call pays no wake-up,
    // as a model runtime calling kernels back to back does not (from an idle, halted vCPU it costs
    // tens of microseconds, much of a 250 us GEMV). When a spinning worker does not get a core of
    // its own (our 2-vCPU VM's host at times runs both on one physical core), this would make
    // calls wait out the 2 ms; the pool then turns cold by itself and keep_warm does nothing
    // (src/runtime/cpu_warm_policy.hpp). TESSEL_CPU_WARM_POOL=0 turns it off, =1 forces it.
    cpu::keep_warm(2e-3);
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
  const bool hugepages_ = env_on("TESSEL_CPU_HUGEPAGES");
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
