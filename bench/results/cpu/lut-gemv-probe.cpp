// Where a low-bit GEMV's time goes: one qgemm implementation timed cold (caches flushed, as the
// harness does) and hot (weights left in cache: the kernel's compute ceiling), with one or all
// threads, with the pool's worker asleep or kept spinning (cpu::keep_warm), next to a plain
// two-thread read of the same weights (what streaming them can cost at best). The variants are
// interleaved call by call so a machine whose speed drifts affects them alike; medians are quoted.
// Not part of the build; from the repo root, after building build/h5:
//   g++ -std=c++20 -O2 -mavx512f -mavx512bw -I include -I src -I src/ops bench/results/cpu/lut-gemv-probe.cpp \
//       build/h5/libtessel.a -lhwy -lopenblas -ldnnl -lgomp -lpthread -o /tmp/lut-probe
//   /tmp/lut-probe "qgemm m=1 n=4096 k=4096 wbits=2 group=128" cpu.lut 40
// PROBE_TARGET=avx2 (sse4, avx3) in the environment times that target's kernels.
#include <immintrin.h>
#include <sys/mman.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "hwy/targets.h"

#include "tessel/cpu/parallel.hpp"
#include "tessel/runtime/registry.hpp"

using namespace tessel;

namespace {

struct Buffer {
  void* ptr;
  size_t bytes;
};

// As the CPU backend allocates: 2 MiB and up on transparent huge pages.
void* alloc(size_t bytes) {
  const size_t huge = size_t{2} << 20, align = bytes >= huge ? huge : 256;
  const size_t padded = (std::max<size_t>(bytes, 1) + align - 1) / align * align;
  void* p = std::aligned_alloc(align, padded);
  if (bytes >= huge) madvise(p, padded, MADV_HUGEPAGE);
  return p;
}

std::vector<unsigned char> g_scratch(64 << 20, 1);
volatile unsigned char g_sink;
volatile long long g_read_sink;
// When each part of the last read_stream began and ended (steady clock, ns), to
// see a late worker.
int64_t g_part_ns[2][2];

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// The harness's flush: stream 64 MiB, then write back and drop every line of
// the tensors.
void flush(const std::vector<Buffer>& live) {
  unsigned char acc = 0;
  for (size_t i = 0; i < g_scratch.size(); i += 64) {
    g_scratch[i]++;
    acc ^= g_scratch[i];
  }
  g_sink = acc;
  for (const Buffer& b : live)
    for (size_t o = 0; o < b.bytes; o += 64) _mm_clflush(static_cast<const char*>(b.ptr) + o);
  _mm_mfence();
}

// Sums the bytes as 64-bit lanes with one or two threads: a read stream with no
// work behind it.
void read_stream(const Buffer& w, int threads) {
  const size_t vecs = w.bytes / 64;
  long long parts[2] = {};
  cpu::parallel_for(2, threads, [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      g_part_ns[b][0] = now_ns();
      const auto* p = static_cast<const __m512i*>(w.ptr);
      __m512i s0 = _mm512_setzero_si512(), s1 = s0, s2 = s0, s3 = s0;
      const size_t v0 = vecs * size_t(b) / 2, v1 = vecs * size_t(b + 1) / 2;
      size_t v = v0;
      for (; v + 4 <= v1; v += 4) {
        // A prefetch 1 KiB ahead: the fastest plain read we found on the 2-core
        // VM (16.5 GB/s per core, against 14 without it).
        for (int l = 0; l < 4; ++l) _mm_prefetch(reinterpret_cast<const char*>(p + v + 16 + l), _MM_HINT_T1);
        s0 = _mm512_add_epi64(s0, _mm512_load_si512(p + v));
        s1 = _mm512_add_epi64(s1, _mm512_load_si512(p + v + 1));
        s2 = _mm512_add_epi64(s2, _mm512_load_si512(p + v + 2));
        s3 = _mm512_add_epi64(s3, _mm512_load_si512(p + v + 3));
      }
      for (; v < v1; ++v) s0 = _mm512_add_epi64(s0, _mm512_load_si512(p + v));
      parts[b] = _mm512_reduce_add_epi64(_mm512_add_epi64(_mm512_add_epi64(s0, s1), _mm512_add_epi64(s2, s3)));
      g_part_ns[b][1] = now_ns();
    }
  });
  g_read_sink = parts[0] + parts[1];
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr,
                 "usage: %s DESCRIPTOR IMPL [ROUNDS [VARIANT]]  (VARIANT: run "
                 "only that one, for perf)\n",
                 argv[0]);
    return 2;
  }
  // PROBE_TARGET=avx2 (or sse4, avx3): the kernels of that Highway target only, to time a path the
  // CPU would not pick by itself.
  if (const char* t = std::getenv("PROBE_TARGET")) {
    const std::string name = t;
    const int64_t target = name == "avx2" ? HWY_AVX2 : name == "sse4" ? HWY_SSE4 : name == "avx3" ? HWY_AVX3 : 0;
    if (target == 0) return std::fprintf(stderr, "PROBE_TARGET: avx2, sse4 or avx3\n"), 2;
    hwy::SetSupportedTargetsForTest(target);
  }
  const OpSpec& sp = *Registry::global().spec("qgemm");
  const Implementation* impl = Registry::global().impl("qgemm", argv[2]);
  if (impl == nullptr) return std::fprintf(stderr, "no implementation %s\n", argv[2]), 2;
  auto parsed = sp.parse(argv[1]);
  if (!parsed.ok()) return std::fprintf(stderr, "bad descriptor\n"), 2;
  const Problem p = *parsed;
  std::mt19937_64 rng(1);
  std::vector<Buffer> bufs;
  std::vector<TensorView> views;
  Buffer weights{};
  for (const auto& d : sp.tensors(p)) {
    int64_t count = 1;
    for (auto v : d.shape) count *= v;
    const size_t bytes = dtype_storage_bytes(d.dtype, count);
    void* ptr = alloc(bytes);
    for (int64_t i = 0; i < count; ++i) {
      if (d.dtype == DType::u8)
        static_cast<uint8_t*>(ptr)[i] = uint8_t(rng());
      else
        store_from_double(d.dtype, ptr, i, 0.1 * double(int(rng() % 2001) - 1000) / 1000.0 + (d.positive ? 0.2 : 0));
    }
    if (d.dtype == DType::u8) weights = {ptr, bytes};
    bufs.push_back({ptr, bytes});
    views.push_back({ptr, d.dtype, d.shape, contiguous_strides(d.shape)});
  }
  const double min_bytes = sp.work(p).min_bytes;
  const int rounds = argc > 3 ? std::atoi(argv[3]) : 30;
  const int only = argc > 4 ? std::atoi(argv[4]) : -1;

  struct Variant {
    const char* name;
    bool cold, warm, read;
    int threads;
  };
  const Variant variants[] = {
      {"lut cold, pool asleep", true, false, false, 0}, {"lut cold, pool warm", true, true, false, 0},
      {"lut cold, 1 thread", true, false, false, 1},    {"lut hot, pool warm", false, true, false, 0},
      {"lut hot, 1 thread", false, false, false, 1},    {"read W cold, pool asleep", true, false, true, 2},
      {"read W cold, pool warm", true, true, true, 2},  {"read W cold, 1 thread", true, false, true, 1},
      {"lut hot, pool asleep", false, false, false, 0},
  };
  constexpr int kVariants = int(sizeof variants / sizeof variants[0]);
  std::vector<double> t[kVariants];
  std::vector<double> early, late, part0,
      part1;  // read W cold, pool asleep: the worker's start delay and each
              // part's time
  for (int r = 0; r < rounds + 3; ++r)
    for (int v = 0; v < kVariants; ++v) {
      if (only >= 0 && v != only) continue;
      const Variant& var = variants[v];
      if (var.cold) flush(bufs);
      if (var.warm) cpu::keep_warm(2e-3);
      const auto t0 = std::chrono::steady_clock::now();
      const int64_t c0 = now_ns();
      if (var.read) {
        read_stream(weights, var.threads);
        if (v == 5 && r >= 3) {
          early.push_back(1e-3 * double(g_part_ns[0][0] - c0));
          late.push_back(1e-3 * double(g_part_ns[1][0] - c0));
          part0.push_back(1e-3 * double(g_part_ns[0][1] - g_part_ns[0][0]));
          part1.push_back(1e-3 * double(g_part_ns[1][1] - g_part_ns[1][0]));
        }
      } else if (!impl->run(p, {}, views, RunContext{nullptr, var.threads}).ok()) {
        std::puts("run failed");
        return 1;
      }
      const auto t1 = std::chrono::steady_clock::now();
      if (r >= 3) t[v].push_back(std::chrono::duration<double>(t1 - t0).count());
    }
  std::printf(
      "%s  %s  (%d interleaved rounds; GB/s of the work model's %.2f "
      "MB, the read of W's %.2f MB)\n",
      argv[1], argv[2], rounds, min_bytes / 1e6, double(weights.bytes) / 1e6);
  auto med = [](std::vector<double> s) {
    std::sort(s.begin(), s.end());
    return s.empty() ? 0.0 : s[s.size() / 2];
  };
  std::printf(
      "  read W cold, pool asleep: caller starts its half %.1f us and "
      "the worker %.1f us after the call; caller's half takes %.1f us, "
      "worker's %.1f us\n",
      med(early), med(late), med(part0), med(part1));
  for (int v = 0; v < kVariants; ++v) {
    if (t[v].empty()) continue;
    std::vector<double> s = t[v];
    std::sort(s.begin(), s.end());
    const double med = s[s.size() / 2], q1 = s[s.size() / 4], q3 = s[3 * s.size() / 4];
    const double b = variants[v].read ? double(weights.bytes) : min_bytes;
    std::printf("  %-26s median %8.1f us  %5.1f GB/s  (IQR %.1f-%.1f)\n", variants[v].name, med * 1e6, b / med / 1e9,
                b / q3 / 1e9, b / q1 / 1e9);
  }
}
