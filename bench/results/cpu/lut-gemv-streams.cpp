// Why cpu.lut's GEMV reads two tiles at once: a cold two-thread read of W in 64 KiB tiles taken from
// a shared counter (as the kernel takes them), each tile read alone or side by side with the next,
// with and without lookup-like arithmetic (shift, two vpermb, two vpmaddubsw, two adds per 64
// bytes: what cpu.lut does per 64 bytes of a 2-bit tile). Software prefetch 4 KiB ahead in every
// stream (the kernel's distance before it read two tiles; it now uses 3 KiB there). The variants
// are interleaved call by call, so a machine whose speed drifts affects them alike; medians are
// quoted.
// Not part of the build; from the repo root, after building build/cpu:
//   g++ -std=c++20 -O2 -mavx512f -mavx512bw -mavx512vbmi -I include bench/results/cpu/lut-gemv-streams.cpp
//       build/cpu/libtessel.a -lhwy -lopenblas -ldnnl -lgomp -lpthread -o /tmp/lut-streams
//   /tmp/lut-streams 14 30     # MiB of weights (14: 2-bit, k = 14336; 4: k = 4096), rounds
#include <immintrin.h>
#include <sys/mman.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "tessel/cpu/parallel.hpp"

using namespace tessel;

namespace {

std::vector<unsigned char> g_scratch(64 << 20, 1);
volatile unsigned char g_sink;
volatile long long g_result;

// The harness's flush: stream 64 MiB, then write back and drop every line of W.
void flush(const void* w, size_t bytes) {
  unsigned char acc = 0;
  for (size_t i = 0; i < g_scratch.size(); i += 64) {
    g_scratch[i]++;
    acc ^= g_scratch[i];
  }
  g_sink = acc;
  for (size_t o = 0; o < bytes; o += 64) _mm_clflush(static_cast<const char*>(w) + o);
  _mm_mfence();
}

// Reads STREAMS consecutive tiles side by side, 128 bytes of each in turn; WORK: with arithmetic.
template <int STREAMS, bool WORK>
long long read_tiles(const char* first, size_t tile_bytes) {
  const __m512i tbl = _mm512_set1_epi8(3);
  __m512i s = _mm512_setzero_si512(), t = s;
  for (size_t off = 0; off < tile_bytes; off += 128)
    for (int st = 0; st < STREAMS; ++st) {
      const char* p = first + st * tile_bytes + off;
      _mm_prefetch(p + 4096, _MM_HINT_T1);
      _mm_prefetch(p + 4096 + 64, _MM_HINT_T1);
      const __m512i a = _mm512_loadu_si512(p), b = _mm512_loadu_si512(p + 64);
      if constexpr (WORK) {
        for (const __m512i v : {a, b}) {
          const __m512i lo = _mm512_maddubs_epi16(_mm512_permutexvar_epi8(v, tbl), tbl);
          const __m512i hi = _mm512_maddubs_epi16(_mm512_permutexvar_epi8(_mm512_srli_epi16(v, 4), tbl), tbl);
          s = _mm512_add_epi16(s, lo);
          t = _mm512_add_epi16(t, hi);
        }
      } else {
        s = _mm512_add_epi64(s, a);
        t = _mm512_add_epi64(t, b);
      }
    }
  return _mm512_reduce_add_epi64(_mm512_add_epi64(s, t));
}

template <int STREAMS, bool WORK>
double run(const void* w, size_t bytes) {
  constexpr size_t kTile = 64 << 10;
  const size_t tiles = bytes / kTile;
  std::atomic<size_t> next{0};
  long long parts[2] = {};
  const auto t0 = std::chrono::steady_clock::now();
  cpu::parallel_for(2, 2, [&](int64_t part, int64_t) {
    long long acc = 0;
    for (;;) {
      const size_t t = next.fetch_add(STREAMS);
      if (t + STREAMS > tiles) break;
      acc += read_tiles<STREAMS, WORK>(static_cast<const char*>(w) + t * kTile, kTile);
    }
    parts[part] = acc;
  });
  const auto t1 = std::chrono::steady_clock::now();
  g_result = parts[0] + parts[1];
  return std::chrono::duration<double>(t1 - t0).count();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) return std::fprintf(stderr, "usage: %s MIB ROUNDS\n", argv[0]), 2;
  const size_t bytes = size_t(std::atof(argv[1]) * (1 << 20)) / (256 << 10) * (256 << 10);
  const int rounds = std::atoi(argv[2]);
  void* w = std::aligned_alloc(size_t{2} << 20, (bytes + (size_t{2} << 20) - 1) / (size_t{2} << 20) * (size_t{2} << 20));
  madvise(w, bytes, MADV_HUGEPAGE);  // as the harness places large buffers
  std::memset(w, 7, bytes);
  struct Variant {
    const char* name;
    double (*fn)(const void*, size_t);
  };
  const Variant variants[] = {{"read, 1 tile at a time", run<1, false>},
                              {"read, 2 tiles side by side", run<2, false>},
                              {"read + lookups, 1 tile", run<1, true>},
                              {"read + lookups, 2 tiles", run<2, true>}};
  std::vector<double> t[4];
  for (int r = 0; r < rounds + 1; ++r)
    for (int v = 0; v < 4; ++v) {
      flush(w, bytes);
      const double s = variants[v].fn(w, bytes);
      if (r > 0) t[v].push_back(s);  // the first round warms the pool and the pages
    }
  std::printf("%.1f MiB, cold, two threads, pool asleep, %d interleaved rounds\n", double(bytes) / (1 << 20), rounds);
  for (int v = 0; v < 4; ++v) {
    std::sort(t[v].begin(), t[v].end());
    const double med = t[v][t[v].size() / 2];
    std::printf("  %-28s median %7.1f us  %5.1f GB/s\n", variants[v].name, med * 1e6, double(bytes) / med / 1e9);
  }
}
