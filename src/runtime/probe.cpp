// Machine probe: detects the CPU (model, ISA, caches), measures copy and read bandwidth, the f32 FMA peak and
// (where AVX512-BF16 and AVX512-VNNI are present) the bf16 and int8 dot-product peaks, and caches it.
#include "tessel/runtime/probe.hpp"

#include <sched.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <barrier>
#include <chrono>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <memory>
#include <sstream>
#include <system_error>
#include <thread>
#include <tuple>
#include <utility>

#include <nlohmann/json.hpp>

#include "machine_files.hpp"

#if defined(__x86_64__) || defined(__i386__)
#define TESSEL_PROBE_X86 1
#include <cpuid.h>
#include <immintrin.h>
#endif

namespace tessel {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr int kJsonVersion = 4;  // 2: cpu.read_gbps; 3: cpu.bf16_dot_gflops; 4: cpu.int8_dot_gops
constexpr size_t kMiB = size_t{1} << 20;
constexpr size_t kGiB = size_t{1} << 30;

double seconds_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

std::string trim(std::string s) {
  const char* ws = " \t\r\n";
  const size_t b = s.find_first_not_of(ws);
  if (b == std::string::npos) return {};
  const size_t e = s.find_last_not_of(ws);
  return s.substr(b, e - b + 1);
}

std::string read_first_line(const fs::path& p) {
  std::ifstream in(p);
  std::string line;
  if (!in || !std::getline(in, line)) return {};
  return trim(line);
}

// ---- CPU identity ---------------------------------------------------------------------------------

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    // x86 says "model name"; some other architectures have no such line, hence the fallback below.
    if (line.rfind("model name", 0) == 0) {
      const size_t colon = line.find(':');
      if (colon != std::string::npos) {
        std::string m = trim(line.substr(colon + 1));
        if (!m.empty()) return m;
      }
    }
  }
  return "unknown";
}

int usable_cores() {
  const unsigned hc = std::thread::hardware_concurrency();
  int affinity = 0;
  // A dynamically sized set, so machines with more than CPU_SETSIZE (1024) CPUs are counted too.
  for (int ncpu = 1024; ncpu <= (1 << 16) && affinity == 0; ncpu *= 4) {
    cpu_set_t* set = CPU_ALLOC(ncpu);
    if (set == nullptr) break;
    const size_t bytes = CPU_ALLOC_SIZE(ncpu);
    CPU_ZERO_S(bytes, set);
    if (sched_getaffinity(0, bytes, set) == 0) {
      affinity = CPU_COUNT_S(bytes, set);
    } else if (errno != EINVAL) {  // EINVAL: the set is too small for the kernel's mask; grow it.
      CPU_FREE(set);
      break;
    }
    CPU_FREE(set);
  }
  int cores = static_cast<int>(hc);
  if (affinity > 0) cores = cores > 0 ? std::min(cores, affinity) : affinity;
  return std::max(cores, 1);
}

// ---- ISA ------------------------------------------------------------------------------------------

struct IsaFlags {
  bool sse4_2 = false, avx = false, avx2 = false, fma = false, f16c = false;
  bool avx512f = false, avx512bw = false, avx512vl = false, avx512_vnni = false, avx512_bf16 = false;
  bool avx512_fp16 = false, avx512_vbmi = false, avx_vnni = false;
  bool amx_tile = false, amx_bf16 = false, amx_int8 = false;
};

#ifdef TESSEL_PROBE_X86
uint64_t read_xcr0() {
  uint32_t lo = 0, hi = 0;
  // Raw encoding of XGETBV, so no -mxsave is needed; only called once OSXSAVE says the instruction exists.
  __asm__ volatile(".byte 0x0f, 0x01, 0xd0" : "=a"(lo), "=d"(hi) : "c"(0));
  return (uint64_t{hi} << 32) | lo;
}
#endif

// CPUID says what the CPU implements; XCR0 says which register state the OS saves on a context switch.
// A feature whose state the OS does not save would corrupt registers, so both must agree.
IsaFlags detect_isa() {
  IsaFlags f;
#ifdef TESSEL_PROBE_X86
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return f;
  const bool osxsave = (c >> 27) & 1;
  const uint64_t xcr0 = osxsave ? read_xcr0() : 0;
  const bool os_avx = (xcr0 & 0x6) == 0x6;                 // XMM and YMM state
  const bool os_avx512 = os_avx && (xcr0 & 0xe0) == 0xe0;  // opmask, ZMM_Hi256, Hi16_ZMM
  const bool os_amx = (xcr0 & 0x60000) == 0x60000;         // XTILECFG and XTILEDATA
  f.sse4_2 = (c >> 20) & 1;
  f.avx = os_avx && ((c >> 28) & 1);
  f.fma = f.avx && ((c >> 12) & 1);
  f.f16c = f.avx && ((c >> 29) & 1);

  if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return f;
  const unsigned max_subleaf = a;
  f.avx2 = f.avx && ((b >> 5) & 1);
  f.avx512f = os_avx512 && ((b >> 16) & 1);
  f.avx512bw = f.avx512f && ((b >> 30) & 1);
  f.avx512vl = f.avx512f && ((b >> 31) & 1);
  f.avx512_vbmi = f.avx512f && ((c >> 1) & 1);
  f.avx512_vnni = f.avx512f && ((c >> 11) & 1);
  f.avx512_fp16 = f.avx512f && ((d >> 23) & 1);
  f.amx_bf16 = os_amx && ((d >> 22) & 1);
  f.amx_tile = os_amx && ((d >> 24) & 1);
  f.amx_int8 = os_amx && ((d >> 25) & 1);

  if (max_subleaf >= 1 && __get_cpuid_count(7, 1, &a, &b, &c, &d)) {
    f.avx_vnni = f.avx && ((a >> 4) & 1);
    f.avx512_bf16 = f.avx512f && ((a >> 5) & 1);
  }
#endif
  return f;
}

std::vector<std::string> isa_names(const IsaFlags& f) {
  const std::pair<bool, const char*> all[] = {
      {f.sse4_2, "sse4_2"},           {f.avx, "avx"},
      {f.avx2, "avx2"},               {f.fma, "fma"},
      {f.f16c, "f16c"},               {f.avx512f, "avx512f"},
      {f.avx512bw, "avx512bw"},       {f.avx512vl, "avx512vl"},
      {f.avx512_vnni, "avx512_vnni"}, {f.avx512_bf16, "avx512_bf16"},
      {f.avx512_fp16, "avx512_fp16"}, {f.avx512_vbmi, "avx512_vbmi"},
      {f.avx_vnni, "avx_vnni"},       {f.amx_tile, "amx_tile"},
      {f.amx_bf16, "amx_bf16"},       {f.amx_int8, "amx_int8"},
  };
  std::vector<std::string> out;
  for (const auto& [on, name] : all)
    if (on) out.emplace_back(name);
  return out;
}

// ---- Caches ---------------------------------------------------------------------------------------

// sysfs writes sizes as "48K", "2048K" or occasionally "2M".
size_t parse_cache_size(const std::string& s) {
  char* end = nullptr;
  const unsigned long long n = std::strtoull(s.c_str(), &end, 10);
  if (end == s.c_str()) return 0;
  switch (*end) {
    case 'K': return static_cast<size_t>(n) << 10;
    case 'M': return static_cast<size_t>(n) << 20;
    case 'G': return static_cast<size_t>(n) << 30;
    default: return static_cast<size_t>(n);
  }
}

std::string format_bytes(size_t bytes) {
  if (bytes >= kMiB && bytes % kMiB == 0) return std::to_string(bytes / kMiB) + " MiB";
  if (bytes >= 1024 && bytes % 1024 == 0) return std::to_string(bytes / 1024) + " KiB";
  return std::to_string(bytes) + " B";
}

void detect_caches(CpuProbe& cpu) {
  struct Entry {
    int level;
    int order;  // d, i, unified: a stable listing order within a level
    std::string text;
    size_t bytes;
  };
  std::vector<Entry> entries;
  std::error_code ec;
  const fs::path root = "/sys/devices/system/cpu/cpu0/cache";
  for (fs::directory_iterator it(root, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.rfind("index", 0) != 0) continue;
    const int level = std::atoi(read_first_line(it->path() / "level").c_str());
    const std::string type = read_first_line(it->path() / "type");
    const size_t bytes = parse_cache_size(read_first_line(it->path() / "size"));
    if (level <= 0 || bytes == 0) continue;
    std::string suffix;
    int order = 2;
    if (type == "Data") {
      suffix = "d";
      order = 0;
    } else if (type == "Instruction") {
      suffix = "i";
      order = 1;
    }
    entries.push_back({level, order, "L" + std::to_string(level) + suffix + " " + format_bytes(bytes), bytes});
  }
  std::sort(entries.begin(), entries.end(),
            [](const Entry& x, const Entry& y) { return std::tie(x.level, x.order) < std::tie(y.level, y.order); });
  for (const Entry& e : entries) {
    cpu.caches.push_back(e.text);
    cpu.llc_bytes = std::max(cpu.llc_bytes, e.bytes);
  }
}

// ---- Lockstep runs on all threads -----------------------------------------------------------------

// Runs `work(t)` on `threads` threads (the caller's thread is t = 0) rep after rep, all threads
// starting each rep together, so a rep's wall time covers the slowest thread. `setup(t)` runs once
// first (e.g. first-touch of a thread's slice, so its pages land on that thread's NUMA node).
// `after_rep(seconds)` runs between reps on one thread while the others wait; it may change shared
// parameters and returns false to stop. Returns the number of threads that took part, which is fewer
// than asked only when the OS refused to start a thread.
int run_lockstep(int threads, const std::function<void(int)>& setup, const std::function<void(int)>& work,
                 const std::function<bool(double)>& after_rep) {
  bool started = false;
  bool stop = false;
  Clock::time_point last;
  auto on_phase = [&]() noexcept {
    const Clock::time_point now = Clock::now();
    if (started) {
      try {
        stop = !after_rep(seconds_between(last, now));
      } catch (...) {
        stop = true;
      }
    }
    started = true;
    last = Clock::now();
  };
  std::barrier<decltype(on_phase)> bar(threads, on_phase);

  // Values written in the completion step are read only after arrive_and_wait returns, which the
  // barrier orders after that step, so plain variables suffice.
  auto body = [&](int t) {
    setup(t);
    bar.arrive_and_wait();
    while (!stop) {
      work(t);
      bar.arrive_and_wait();
    }
  };

  std::vector<std::thread> pool;
  pool.reserve(static_cast<size_t>(threads));  // so only thread creation itself can fail below
  int participants = 1;
  for (int t = 1; t < threads; ++t) {
    try {
      pool.emplace_back(body, t);
      ++participants;
    } catch (const std::system_error&) {
      // Remove the threads that will never come from every phase, so the others do not wait forever.
      for (int missing = t; missing < threads; ++missing) bar.arrive_and_drop();
      break;
    }
  }
  body(0);
  for (std::thread& th : pool) th.join();
  return participants;
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// ---- Memory bandwidth -----------------------------------------------------------------------------

// Bytes this process may still allocate without pushing the machine (or its cgroup) into swap or OOM.
size_t available_memory() {
  size_t avail = std::numeric_limits<size_t>::max();
  {
    std::ifstream in("/proc/meminfo");
    std::string key;
    unsigned long long kb = 0;
    std::string unit;
    while (in >> key >> kb) {
      std::getline(in, unit);
      if (key == "MemAvailable:") {
        avail = static_cast<size_t>(kb) * 1024;
        break;
      }
    }
  }
  const std::string max = read_first_line("/sys/fs/cgroup/memory.max");
  const std::string cur = read_first_line("/sys/fs/cgroup/memory.current");
  if (!max.empty() && max != "max" && !cur.empty()) {
    const unsigned long long m = std::strtoull(max.c_str(), nullptr, 10);
    const unsigned long long c = std::strtoull(cur.c_str(), nullptr, 10);
    avail = std::min(avail, static_cast<size_t>(m > c ? m - c : 0));
  }
  return avail;
}

// An anonymous mapping, so a huge buffer goes straight back to the OS and can ask for huge pages.
class Mapping {
 public:
  explicit Mapping(size_t bytes) : bytes_(bytes) {
    void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return;
    ptr_ = static_cast<char*>(p);
#ifdef MADV_HUGEPAGE
    // Fewer TLB misses during the copy and much faster first touch; a hint, so failure is harmless.
    madvise(ptr_, bytes, MADV_HUGEPAGE);
#endif
  }
  ~Mapping() {
    if (ptr_ != nullptr) munmap(ptr_, bytes_);
  }
  Mapping(const Mapping&) = delete;
  Mapping& operator=(const Mapping&) = delete;
  char* get() const { return ptr_; }

 private:
  char* ptr_ = nullptr;
  size_t bytes_;
};

// Non-temporal stores write the destination without first reading it into cache (no read-for-ownership),
// so the bytes on the bus equal the read+write bytes counted, whatever the size of the slice. std::memcpy
// switches to such stores only above a glibc threshold that depends on the cache size.
void copy_stream(char* dst, const char* src, size_t bytes) {
#ifdef TESSEL_PROBE_X86
  // SSE2 is part of x86-64, so this needs no target attribute; 16 bytes per store is far beyond
  // what one core's share of DRAM bandwidth can absorb.
  auto* d = reinterpret_cast<__m128i*>(dst);
  const auto* s = reinterpret_cast<const __m128i*>(src);
  const size_t n = bytes / 64;
  for (size_t i = 0; i < n; ++i) {
    const __m128i a = _mm_load_si128(s + 4 * i + 0);
    const __m128i b = _mm_load_si128(s + 4 * i + 1);
    const __m128i c = _mm_load_si128(s + 4 * i + 2);
    const __m128i e = _mm_load_si128(s + 4 * i + 3);
    _mm_stream_si128(d + 4 * i + 0, a);
    _mm_stream_si128(d + 4 * i + 1, b);
    _mm_stream_si128(d + 4 * i + 2, c);
    _mm_stream_si128(d + 4 * i + 3, e);
  }
  std::memcpy(dst + n * 64, src + n * 64, bytes - n * 64);
  _mm_sfence();  // streamed stores are weakly ordered; make them complete before the rep ends
#else
  std::memcpy(dst, src, bytes);
#endif
}

struct MemPlan {
  size_t buffer_bytes;
  int min_reps;
  int max_reps;
  double budget_s;
};

MemPlan plan_memory(size_t llc_bytes, bool quick) {
  // The copy must dwarf the LLC so it measures DRAM, not cache: four times the LLC, at least 256 MiB,
  // at most 1 GiB per buffer (VMs can report very large LLCs), and both buffers within half of free memory.
  size_t bytes = std::clamp(4 * llc_bytes, 256 * kMiB, 1 * kGiB);
  // Quick mode cannot afford to fault in and stream 2 GiB; it trades some accuracy for time.
  if (quick) bytes = std::min(bytes, 256 * kMiB);
  bytes = std::min(bytes, available_memory() / 4);
  bytes = std::max(bytes / kMiB * kMiB, 16 * kMiB);
  if (quick) return {bytes, 3, 6, 0.08};
  return {bytes, 5, 40, 1.2};
}

// One thread's share of a buffer of `bytes`: slices are multiples of 4 KiB so each thread's pages are
// its own and its pointers stay aligned; the last thread takes the rest.
struct Slices {
  size_t bytes, per;
  Slices(size_t total, int threads) : bytes(total), per(total / static_cast<size_t>(threads) / 4096 * 4096) {}
  size_t begin(int t) const { return per * static_cast<size_t>(t); }
  size_t len(int t, int threads) const { return t == threads - 1 ? bytes - begin(t) : per; }
};

// Runs `work` on every thread in lockstep until the plan's repetitions or budget are spent, and
// returns the median repetition's seconds (repetition 0 warms TLBs and clocks and is not counted)
// and, in `bytes_per_rep`, the bytes the threads that ran covered. `what` names the measurement.
Result<double> median_stream_seconds(const char* what, int threads, const MemPlan& plan, const Slices& slices,
                                     const std::function<void(int)>& setup, const std::function<void(int)>& work,
                                     size_t* bytes_per_rep) {
  int rep = 0;
  double elapsed = 0;
  std::vector<double> secs;
  auto after = [&](double s) {
    elapsed += s;
    if (rep++ > 0) secs.push_back(s);
    const int counted = static_cast<int>(secs.size());
    return counted < plan.min_reps || (counted < plan.max_reps && elapsed < plan.budget_s);
  };
  const int ran = run_lockstep(threads, setup, work, after);
  *bytes_per_rep = 0;
  for (int t = 0; t < ran; ++t) *bytes_per_rep += slices.len(t, threads);
  const double med = median(secs);
  if (!(med > 0)) return Status::error(StatusCode::internal, "probe", what, "the stream took no measurable time");
  return med;
}

Result<double> measure_mem_gbps(int threads, size_t llc_bytes, bool quick) {
  const MemPlan plan = plan_memory(llc_bytes, quick);
  size_t bytes = plan.buffer_bytes;
  std::unique_ptr<Mapping> src, dst;
  // mmap can still fail (address-space limits); smaller buffers are a worse measurement but not a wrong one.
  for (;; bytes /= 2) {
    src = std::make_unique<Mapping>(bytes);
    dst = std::make_unique<Mapping>(bytes);
    if (src->get() != nullptr && dst->get() != nullptr) break;
    if (bytes <= 16 * kMiB)
      return Status::error(StatusCode::internal, "probe", "mem_gbps", "could not map copy buffers");
  }
  const Slices sl(bytes, threads);
  auto setup = [&](int t) {
    std::memset(src->get() + sl.begin(t), 0x5a, sl.len(t, threads));
    std::memset(dst->get() + sl.begin(t), 0, sl.len(t, threads));
  };
  auto work = [&](int t) { copy_stream(dst->get() + sl.begin(t), src->get() + sl.begin(t), sl.len(t, threads)); };
  size_t copied = 0;
  Result<double> med = median_stream_seconds("mem_gbps", threads, plan, sl, setup, work, &copied);
  if (!med.ok()) return med.status();
  return 2.0 * static_cast<double>(copied) / *med / 1e9;  // read + write bytes
}

// Sums `bytes` with 16-byte loads into four independent accumulators (so the loop never waits on an
// add), returning the sum so the compiler keeps the loads.
uint64_t read_stream(const char* src, size_t bytes) {
#ifdef TESSEL_PROBE_X86
  const auto* s = reinterpret_cast<const __m128i*>(src);
  __m128i a = _mm_setzero_si128(), b = a, c = a, d = a;
  const size_t n = bytes / 64;
  for (size_t i = 0; i < n; ++i) {
    a = _mm_add_epi64(a, _mm_load_si128(s + 4 * i + 0));
    b = _mm_add_epi64(b, _mm_load_si128(s + 4 * i + 1));
    c = _mm_add_epi64(c, _mm_load_si128(s + 4 * i + 2));
    d = _mm_add_epi64(d, _mm_load_si128(s + 4 * i + 3));
  }
  const __m128i t = _mm_add_epi64(_mm_add_epi64(a, b), _mm_add_epi64(c, d));
  uint64_t out[2];
  _mm_storeu_si128(reinterpret_cast<__m128i*>(out), t);
  uint64_t sum = out[0] + out[1];
  for (size_t i = n * 64; i < bytes; ++i) sum += static_cast<unsigned char>(src[i]);
  return sum;
#else
  uint64_t sum = 0;
  for (size_t i = 0; i < bytes; i += 8) {
    uint64_t v = 0;
    std::memcpy(&v, src + i, std::min<size_t>(8, bytes - i));
    sum += v;
  }
  return sum;
#endif
}

// The read-only twin of measure_mem_gbps, on a buffer of the same size: every thread streams its
// slice. A GEMV reads its weights and writes almost nothing, so this, not the copy, is its ceiling.
Result<double> measure_read_gbps(int threads, size_t llc_bytes, bool quick) {
  const MemPlan plan = plan_memory(llc_bytes, quick);
  size_t bytes = plan.buffer_bytes;
  std::unique_ptr<Mapping> src;
  for (;; bytes /= 2) {
    src = std::make_unique<Mapping>(bytes);
    if (src->get() != nullptr) break;
    if (bytes <= 16 * kMiB)
      return Status::error(StatusCode::internal, "probe", "read_gbps", "could not map the read buffer");
  }
  const Slices sl(bytes, threads);
  std::vector<uint64_t> sums(static_cast<size_t>(threads));
  auto setup = [&](int t) { std::memset(src->get() + sl.begin(t), 0x5a, sl.len(t, threads)); };
  auto work = [&](int t) { sums[size_t(t)] += read_stream(src->get() + sl.begin(t), sl.len(t, threads)); };
  size_t read = 0;
  Result<double> med = median_stream_seconds("read_gbps", threads, plan, sl, setup, work, &read);
  if (!med.ok()) return med.status();
  uint64_t total = 0;
  for (uint64_t v : sums) total += v;
  if (total == 1) std::fputc(' ', stderr);  // never true; it keeps the loads
  return static_cast<double>(read) / *med / 1e9;
}

// ---- FMA peak -------------------------------------------------------------------------------------

// Twelve independent chains cover FMA latency (4-5 cycles) times throughput (2 per cycle) with room to
// spare, so the loop is throughput-bound. acc*a+b with a just below 1 stays finite for any length.
constexpr int kChains = 12;

#ifdef TESSEL_PROBE_X86
// The sum of the chains' lanes, which the callers return so that the loops are kept (512- and 256-bit
// chains). Not _mm512_reduce_add_ps: with GCC 12 it trips -Wuninitialized inside the intrinsic headers.
template <int C>
__attribute__((target("avx512f"))) float sum_chains(const __m512 (&acc)[C]) {
  __m512 sum = acc[0];
  for (int i = 1; i < C; ++i) sum = _mm512_add_ps(sum, acc[i]);
  alignas(64) float lanes[16];
  _mm512_store_ps(lanes, sum);
  float total = 0;
  for (float x : lanes) total += x;
  return total;
}
template <int C>
__attribute__((target("avx"))) float sum_chains(const __m256 (&acc)[C]) {
  __m256 sum = acc[0];
  for (int i = 1; i < C; ++i) sum = _mm256_add_ps(sum, acc[i]);
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, sum);
  float total = 0;
  for (float x : lanes) total += x;
  return total;
}

__attribute__((target("avx512f"))) float fma_chains_avx512(int64_t iters, float seed) {
  __m512 acc[kChains];
  for (int i = 0; i < kChains; ++i) acc[i] = _mm512_set1_ps(seed + 0.01f * static_cast<float>(i));
  const __m512 a = _mm512_set1_ps(0.9999999f);
  const __m512 b = _mm512_set1_ps(1e-7f);
  for (int64_t n = 0; n < iters; ++n) {
#pragma GCC unroll 12
    for (int i = 0; i < kChains; ++i) acc[i] = _mm512_fmadd_ps(acc[i], a, b);
  }
  return sum_chains(acc);
}

__attribute__((target("avx2,fma"))) float fma_chains_avx2(int64_t iters, float seed) {
  __m256 acc[kChains];
  for (int i = 0; i < kChains; ++i) acc[i] = _mm256_set1_ps(seed + 0.01f * static_cast<float>(i));
  const __m256 a = _mm256_set1_ps(0.9999999f);
  const __m256 b = _mm256_set1_ps(1e-7f);
  for (int64_t n = 0; n < iters; ++n) {
#pragma GCC unroll 12
    for (int i = 0; i < kChains; ++i) acc[i] = _mm256_fmadd_ps(acc[i], a, b);
  }
  return sum_chains(acc);
}

// vdpbf16ps: each f32 lane adds two bf16 products, four flops a lane. It needs more chains than an
// FMA: on a Zen 5 EPYC, 12 reached 1.85x the FMA peak and 16 or 24 reached 2.0x. Tiny operands keep
// the sums finite for any length.
constexpr int kDotChains = 16;
__attribute__((target("avx512f,avx512bf16"))) float dot_chains_avx512bf16(int64_t iters, float seed) {
  __m512 acc[kDotChains];
  for (int i = 0; i < kDotChains; ++i) acc[i] = _mm512_set1_ps(seed + 0.01f * static_cast<float>(i));
  const __m512bh a = _mm512_cvtne2ps_pbh(_mm512_set1_ps(1e-3f), _mm512_set1_ps(1e-3f));
  for (int64_t n = 0; n < iters; ++n) {
#pragma GCC unroll 16
    for (int i = 0; i < kDotChains; ++i) acc[i] = _mm512_dpbf16_ps(acc[i], a, a);
  }
  return sum_chains(acc);
}

// vpdpbusd: each 32-bit lane adds four u8 x s8 products, eight ops a lane. As many chains as the bf16
// dot (on a Zen 5 EPYC 12 chains reached 8.2 G instructions a second a core, as 16 did, 8 only 7.2).
__attribute__((target("avx512f,avx512vnni"))) float int8_chains_avx512vnni(int64_t iters, float seed) {
  __m512i acc[kDotChains];
  for (int i = 0; i < kDotChains; ++i) acc[i] = _mm512_set1_epi32(static_cast<int>(seed) + i);
  const __m512i u = _mm512_set1_epi8(1), s = _mm512_set1_epi8(-1);  // sums stay small for any length
  for (int64_t n = 0; n < iters; ++n) {
#pragma GCC unroll 16
    for (int i = 0; i < kDotChains; ++i) acc[i] = _mm512_dpbusd_epi32(acc[i], u, s);
  }
  __m512i sum = acc[0];
  for (int i = 1; i < kDotChains; ++i) sum = _mm512_add_epi32(sum, acc[i]);
  alignas(64) int32_t lanes[16];
  _mm512_store_si512(lanes, sum);
  int64_t total = 0;
  for (int32_t x : lanes) total += x;
  return static_cast<float>(total);
}
#endif

// Without hardware FMA a multiply and an add stand in for one; still two flops per lane.
float fma_chains_scalar(int64_t iters, float seed) {
  float acc[kChains];
  for (int i = 0; i < kChains; ++i) acc[i] = seed + 0.01f * static_cast<float>(i);
  const float a = 0.9999999f, b = 1e-7f;
  for (int64_t n = 0; n < iters; ++n) {
#pragma GCC unroll 12
    for (int i = 0; i < kChains; ++i) acc[i] = acc[i] * a + b;
  }
  float total = 0;
  for (float x : acc) total += x;
  return total;
}

// A loop of independent chains: `fn(iters, seed)` does `flops_per_iter` flops an iteration.
struct PeakKernel {
  float (*fn)(int64_t, float);
  double flops_per_iter;
};

PeakKernel pick_fma_kernel(const IsaFlags& isa) {
#ifdef TESSEL_PROBE_X86
  if (isa.avx512f) return {fma_chains_avx512, 2.0 * kChains * 16};
  if (isa.avx2 && isa.fma) return {fma_chains_avx2, 2.0 * kChains * 8};
#else
  (void)isa;
#endif
  return {fma_chains_scalar, 2.0 * kChains};
}

Result<double> measure_peak_gflops(int threads, const PeakKernel& kernel, bool quick) {
  const double target_rep_s = quick ? 0.02 : 0.12;
  const int measured_reps = quick ? 3 : 6;

  int64_t iters = 1 << 12;
  bool calibrating = true;
  bool warm = false;
  std::vector<std::pair<int64_t, double>> reps;  // (iterations per thread, seconds)
  std::vector<float> sink(static_cast<size_t>(threads));  // keeps the chains' results alive
  auto work = [&](int t) { sink[static_cast<size_t>(t)] = kernel.fn(iters, 1.0f + static_cast<float>(t)); };
  // Iteration counts are found with all threads running, since SMT siblings share one core's FMA units.
  auto after = [&](double s) {
    if (calibrating) {
      if (s < target_rep_s / 4) {
        const double scale = s > 0 ? std::min(64.0, target_rep_s / s) : 64.0;
        iters = static_cast<int64_t>(static_cast<double>(iters) * scale) + 1;
        return true;
      }
      calibrating = false;
      iters = std::max<int64_t>(1, static_cast<int64_t>(static_cast<double>(iters) * target_rep_s / s));
      return true;
    }
    if (!warm) {  // one full-length rep first, so clocks (AVX-512 licence) have settled
      warm = true;
      return true;
    }
    reps.emplace_back(iters, s);
    return static_cast<int>(reps.size()) < measured_reps;
  };
  const int participants = run_lockstep(threads, [](int) {}, work, after);

  std::vector<double> gflops;
  for (const auto& [n, s] : reps) {
    const double flops = static_cast<double>(participants) * static_cast<double>(n) * kernel.flops_per_iter;
    if (s > 0) gflops.push_back(flops / s / 1e9);
  }
  // The peak, not the median: a busy neighbour can only slow a rep down, never speed it up.
  const double best = gflops.empty() ? 0 : *std::max_element(gflops.begin(), gflops.end());
  if (!(best > 0)) return Status::error(StatusCode::internal, "probe", "peak_gflops", "the loop took no measurable time");
  return best;
}

// ---- Identity, time, cache path -------------------------------------------------------------------

std::string sanitize(const std::string& s) {
  std::string out;
  for (char ch : s) {
    const bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '.' ||
                    ch == '_' || ch == '-';
    out.push_back(ok ? ch : '_');
  }
  return out.empty() ? "unknown" : out;
}

// The hostname alone is not enough: cloned VMs and containers often share one, and a cache entry from
// other hardware would judge bench rows against the wrong ceilings.
std::string host_key(const std::string& model, int cores) {
  char name[256] = {};
  if (gethostname(name, sizeof(name) - 1) != 0) name[0] = '\0';
  uint64_t h = 1469598103934665603ull;  // FNV-1a
  const std::string id = model + "|" + std::to_string(cores);
  for (unsigned char ch : id) {
    h ^= ch;
    h *= 1099511628211ull;
  }
  char hex[17];
  std::snprintf(hex, sizeof(hex), "%08llx", static_cast<unsigned long long>((h ^ (h >> 32)) & 0xffffffffull));
  return sanitize(name) + "-" + hex;
}

std::string utc_now_iso8601() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr ? std::string(v) : std::string();
}

// Empty when no location can be determined; the probe is then measured and simply not cached.
fs::path cache_dir() {
  if (std::string d = env("TESSEL_CACHE_DIR"); !d.empty()) return d;
  if (std::string d = env("XDG_CACHE_HOME"); !d.empty()) return fs::path(d) / "tessel";
  if (std::string d = env("HOME"); !d.empty()) return fs::path(d) / ".cache" / "tessel";
  return {};
}

// Writes through a temporary file and a rename, so a concurrent reader never sees half a file.
bool write_cache(const fs::path& path, const std::string& text) {
  std::error_code ec;
  fs::create_directories(path.parent_path(), ec);
  if (ec) return false;
  fs::path tmp = path;
  tmp += ".tmp." + std::to_string(static_cast<long>(getpid()));
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) return false;
    out << text;
    out.flush();
    if (!out) {
      out.close();
      fs::remove(tmp, ec);
      return false;
    }
  }
  fs::rename(tmp, path, ec);
  if (ec) {
    std::error_code ignored;
    fs::remove(tmp, ignored);
    return false;
  }
  return true;
}

// ---- JSON -----------------------------------------------------------------------------------------

using nlohmann::json;

Status bad(const std::string& field, const std::string& rule) { return Status::invalid("probe", field, rule); }

Status get_string(const json& o, const char* key, const std::string& path, std::string& out) {
  const auto it = o.find(key);
  if (it == o.end()) return bad(path + key, "missing");
  if (!it->is_string()) return bad(path + key, "must be a string");
  out = it->get<std::string>();
  return {};
}

Status get_real(const json& o, const char* key, const std::string& path, double& out) {
  const auto it = o.find(key);
  if (it == o.end()) return bad(path + key, "missing");
  if (!it->is_number()) return bad(path + key, "must be a number");
  out = it->get<double>();
  if (!std::isfinite(out) || out < 0) return bad(path + key, "must be a finite number >= 0");
  return {};
}

Status get_size(const json& o, const char* key, const std::string& path, uint64_t max, uint64_t& out) {
  const auto it = o.find(key);
  if (it == o.end()) return bad(path + key, "missing");
  if (it->is_number_unsigned()) {
    out = it->get<uint64_t>();
  } else if (it->is_number_integer()) {  // a signed value: negative, since non-negative ones parse as unsigned
    return bad(path + key, "must be >= 0");
  } else {
    return bad(path + key, "must be an integer");
  }
  if (out > max) return bad(path + key, "must be <= " + std::to_string(max));
  return {};
}

Status get_strings(const json& o, const char* key, const std::string& path, std::vector<std::string>& out) {
  const auto it = o.find(key);
  if (it == o.end()) return bad(path + key, "missing");
  if (!it->is_array()) return bad(path + key, "must be an array of strings");
  out.clear();
  for (const json& e : *it) {
    if (!e.is_string()) return bad(path + key, "must be an array of strings");
    out.push_back(e.get<std::string>());
  }
  return {};
}

Status get_object(const json& o, const char* key, const json*& out) {
  const auto it = o.find(key);
  if (it == o.end()) return bad(key, "missing");
  if (!it->is_object()) return bad(key, "must be an object");
  out = &*it;
  return {};
}

Status parse_probe(const json& j, MachineProbe& m) {
  if (!j.is_object()) return bad("json", "top level must be an object");
  uint64_t version = 0;
  TESSEL_RETURN_IF_ERROR(get_size(j, "version", "", 1u << 30, version));
  if (version != static_cast<uint64_t>(kJsonVersion))
    return bad("version", "must be " + std::to_string(kJsonVersion) + " (got " + std::to_string(version) + ")");
  TESSEL_RETURN_IF_ERROR(get_string(j, "host", "", m.host));
  TESSEL_RETURN_IF_ERROR(get_string(j, "measured_at", "", m.measured_at));

  const json* cpu = nullptr;
  TESSEL_RETURN_IF_ERROR(get_object(j, "cpu", cpu));
  const std::string cp = "cpu.";
  uint64_t u = 0;
  TESSEL_RETURN_IF_ERROR(get_string(*cpu, "model", cp, m.cpu.model));
  TESSEL_RETURN_IF_ERROR(get_strings(*cpu, "isa", cp, m.cpu.isa));
  TESSEL_RETURN_IF_ERROR(get_size(*cpu, "cores", cp, std::numeric_limits<int>::max(), u));
  m.cpu.cores = static_cast<int>(u);
  TESSEL_RETURN_IF_ERROR(get_strings(*cpu, "caches", cp, m.cpu.caches));
  TESSEL_RETURN_IF_ERROR(get_size(*cpu, "llc_bytes", cp, std::numeric_limits<size_t>::max(), u));
  m.cpu.llc_bytes = static_cast<size_t>(u);
  TESSEL_RETURN_IF_ERROR(get_real(*cpu, "mem_gbps", cp, m.cpu.mem_gbps));
  TESSEL_RETURN_IF_ERROR(get_real(*cpu, "read_gbps", cp, m.cpu.read_gbps));
  TESSEL_RETURN_IF_ERROR(get_real(*cpu, "fma_gflops", cp, m.cpu.fma_gflops));
  TESSEL_RETURN_IF_ERROR(get_real(*cpu, "bf16_dot_gflops", cp, m.cpu.bf16_dot_gflops));
  TESSEL_RETURN_IF_ERROR(get_real(*cpu, "int8_dot_gops", cp, m.cpu.int8_dot_gops));

  const auto hg = j.find("has_gpu");
  if (hg == j.end()) return bad("has_gpu", "missing");
  if (!hg->is_boolean()) return bad("has_gpu", "must be true or false");
  m.has_gpu = hg->get<bool>();
  // The gpu object is always written, but only required when there is a GPU to describe.
  if (m.has_gpu || j.contains("gpu")) {
    const json* gpu = nullptr;
    TESSEL_RETURN_IF_ERROR(get_object(j, "gpu", gpu));
    const std::string gp = "gpu.";
    TESSEL_RETURN_IF_ERROR(get_string(*gpu, "name", gp, m.gpu.name));
    TESSEL_RETURN_IF_ERROR(get_size(*gpu, "sms", gp, std::numeric_limits<int>::max(), u));
    m.gpu.sms = static_cast<int>(u);
    TESSEL_RETURN_IF_ERROR(get_size(*gpu, "l2_bytes", gp, std::numeric_limits<size_t>::max(), u));
    m.gpu.l2_bytes = static_cast<size_t>(u);
    TESSEL_RETURN_IF_ERROR(get_real(*gpu, "copy_gbps", gp, m.gpu.copy_gbps));
    TESSEL_RETURN_IF_ERROR(get_real(*gpu, "bf16_tflops", gp, m.gpu.bf16_tflops));
  }
  return {};
}

}  // namespace

std::string probe_to_json(const MachineProbe& m) {
  json j;
  j["version"] = kJsonVersion;
  j["host"] = m.host;
  j["measured_at"] = m.measured_at;
  j["cpu"] = {
      {"model", m.cpu.model},       {"isa", m.cpu.isa},           {"cores", m.cpu.cores},
      {"caches", m.cpu.caches},     {"llc_bytes", m.cpu.llc_bytes}, {"mem_gbps", m.cpu.mem_gbps},
      {"read_gbps", m.cpu.read_gbps},   {"fma_gflops", m.cpu.fma_gflops},
      {"bf16_dot_gflops", m.cpu.bf16_dot_gflops}, {"int8_dot_gops", m.cpu.int8_dot_gops},
  };
  j["has_gpu"] = m.has_gpu;
  j["gpu"] = {
      {"name", m.gpu.name},           {"sms", m.gpu.sms},
      {"l2_bytes", m.gpu.l2_bytes},   {"copy_gbps", m.gpu.copy_gbps},
      {"bf16_tflops", m.gpu.bf16_tflops},
  };
  // Replace, not throw, on invalid UTF-8: a CPU model or hostname is not guaranteed to be clean text.
  return j.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

Result<MachineProbe> probe_from_json(const std::string& text) {
  const json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Status::invalid("probe", "json", "not valid JSON");
  MachineProbe m;
  try {
    TESSEL_RETURN_IF_ERROR(parse_probe(j, m));
  } catch (const json::exception& e) {  // every type is checked first; this is a backstop, not a path
    return Status::invalid("probe", "json", e.what());
  }
  return m;
}

Result<MachineProbe> run_probe(bool quick) {
  MachineProbe m;
  CpuProbe& cpu = m.cpu;
  cpu.model = cpu_model();
  const IsaFlags isa = detect_isa();
  cpu.isa = isa_names(isa);
  cpu.cores = usable_cores();
  detect_caches(cpu);
  m.host = host_key(cpu.model, cpu.cores);

  Result<double> mem = measure_mem_gbps(cpu.cores, cpu.llc_bytes, quick);
  if (!mem.ok()) return mem.status();
  cpu.mem_gbps = *mem;
  Result<double> read = measure_read_gbps(cpu.cores, cpu.llc_bytes, quick);
  if (!read.ok()) return read.status();
  cpu.read_gbps = *read;
  Result<double> fma = measure_peak_gflops(cpu.cores, pick_fma_kernel(isa), quick);
  if (!fma.ok()) return fma.status();
  cpu.fma_gflops = *fma;
#ifdef TESSEL_PROBE_X86
  if (isa.avx512_bf16) {
    Result<double> dot = measure_peak_gflops(cpu.cores, {dot_chains_avx512bf16, 4.0 * kDotChains * 16}, quick);
    if (!dot.ok()) return dot.status();
    cpu.bf16_dot_gflops = *dot;
  }
  if (isa.avx512_vnni) {
    Result<double> dot = measure_peak_gflops(cpu.cores, {int8_chains_avx512vnni, 8.0 * kDotChains * 16}, quick);
    if (!dot.ok()) return dot.status();
    cpu.int8_dot_gops = *dot;
  }
#endif

#ifdef TESSEL_WITH_CUDA
  if (Result<GpuCeilings> gpu = probe_gpu_ceilings(quick); gpu.ok()) {
    m.has_gpu = true;
    m.gpu = std::move(gpu).value();
  }
#endif

  m.measured_at = utc_now_iso8601();
  return m;
}

Result<MachineProbe> load_or_run_probe(bool refresh, bool quick) {
  // The key needs no measurement, so a cache hit costs only a file read.
  const std::string host = host_key(cpu_model(), usable_cores());
  const fs::path dir = cache_dir();
  const fs::path path = dir.empty() ? fs::path() : dir / ("probe-" + host + ".json");

  if (!refresh && !path.empty()) {
    std::ifstream in(path, std::ios::binary);
    if (in) {
      std::ostringstream text;
      text << in.rdbuf();
      // Anything wrong with the file (unreadable, corrupt, another machine's) means: measure again.
      // A read error leaves the text short, which the parser then rejects.
      Result<MachineProbe> cached = probe_from_json(text.str());
      if (cached.ok() && cached->host == host) return cached;
    }
  }

  Result<MachineProbe> measured = run_probe(quick);
  if (!measured.ok()) return measured;
  // A cache that cannot be written costs only a re-measurement next time, so it is not an error.
  if (!path.empty()) (void)write_cache(path, probe_to_json(*measured));
  return measured;
}

Roofline roofline_for(const MachineProbe& m, Device d) {
  Roofline r;
  if (d == Device::cuda) {
    r.bytes_per_s = m.gpu.copy_gbps * 1e9;
    r.flops_per_s = m.gpu.bf16_tflops * 1e12;
  } else {
    r.bytes_per_s = m.cpu.mem_gbps * 1e9;
    r.flops_per_s = m.cpu.fma_gflops * 1e9;
  }
  // The CPU's bf16 matrix ceiling is its bf16 dot-product peak where it has one (AMX is not measured
  // yet, so AMX rows can still read above it), else the vector FMA peak.
  r.matrix_flops_per_s = d == Device::cpu && m.cpu.bf16_dot_gflops > 0 ? m.cpu.bf16_dot_gflops * 1e9 : r.flops_per_s;
  r.int8_ops_per_s = d == Device::cpu && m.cpu.int8_dot_gops > 0 ? m.cpu.int8_dot_gops * 1e9 : r.matrix_flops_per_s;
  r.units = d == Device::cuda ? m.gpu.sms : m.cpu.cores;
  return r;
}

std::string cache_directory() { return cache_dir().string(); }

namespace machine {

std::string cpu_model_name() { return cpu_model(); }
int usable_core_count() { return usable_cores(); }
bool write_file_atomically(const std::string& path, const std::string& text) { return write_cache(path, text); }

}  // namespace machine

}  // namespace tessel
