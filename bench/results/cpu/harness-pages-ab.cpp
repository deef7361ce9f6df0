// Side-by-side measurement behind the CPU harness's huge pages and warm pool (cpu_backend.cpp):
// one process, the same problem on two copies of its tensors (4 KiB pages vs 2 MiB-aligned with
// MADV_HUGEPAGE), a cold or warm thread pool (cpu::keep_warm at the end of the flush), the
// four combinations interleaved call by call, each call after the backend's flush (64 MiB stream,
// clflush of the tensors). Interleaving keeps the comparison fair on a machine whose speed drifts.
// Not part of the build; from the repo root, after building build/lowbit:
//   g++ -std=c++20 -O2 -I include -I src -I src/ops bench/results/cpu/harness-pages-ab.cpp \
//       build/lowbit/libtessel.a -lhwy -lopenblas -ldnnl -lgomp -lpthread -o /tmp/pages-ab
//   /tmp/pages-ab "qgemm m=1 n=4096 k=14336 wbits=4 group=128" qgemm cpu.lut 40
#include <sys/mman.h>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>
#include "tessel/cpu/parallel.hpp"
#include "tessel/runtime/registry.hpp"
using namespace tessel;
struct Set { std::vector<void*> ptrs; std::vector<size_t> bytes; std::vector<TensorView> views; };
static std::vector<unsigned char> scratch(64 << 20, 1);
static volatile unsigned char sink;
void flush(const Set& s, bool warm) {
  unsigned char acc = 0;
  for (size_t i = 0; i < scratch.size(); i += 64) { scratch[i]++; acc ^= scratch[i]; }
  sink = acc;
  for (size_t t = 0; t < s.ptrs.size(); ++t) for (size_t o = 0; o < s.bytes[t]; o += 64) __builtin_ia32_clflush((char*)s.ptrs[t] + o);
  __builtin_ia32_mfence();
  if (warm) cpu::keep_warm(2e-3);  // as CpuBackend::flush_cache does
}
int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: %s DESCRIPTOR OP IMPL [ROUNDS]\n", argv[0]);
    return 2;
  }
  const Implementation& impl = *Registry::global().impl(argv[2], argv[3]);
  const OpSpec& sp = *Registry::global().spec(argv[2]);
  auto p = *sp.parse(argv[1]);
  auto descs = sp.tensors(p);
  std::mt19937_64 rng(1);
  Set sets[2];
  for (int h = 0; h < 2; ++h)
    for (auto& d : descs) {
      int64_t c = 1; for (auto v : d.shape) c *= v;
      size_t b = dtype_storage_bytes(d.dtype, c);
      size_t al = h ? (2u << 20) : 256;
      void* ptr = std::aligned_alloc(al, (b + al - 1) / al * al);
      if (h) madvise(ptr, (b + al - 1) / al * al, MADV_HUGEPAGE);
      // plausible values: small floats for float tensors, random bytes for u8
      for (int64_t i = 0; i < c; ++i) {
        if (d.dtype == DType::u8) ((uint8_t*)ptr)[i] = uint8_t(rng());
        else if (d.role == TensorDesc::Role::input) store_from_double(d.dtype, ptr, i, 0.1 * double(int(rng() % 2001) - 1000) / 1000.0 + (d.positive ? 0.2 : 0));
      }
      sets[h].ptrs.push_back(ptr); sets[h].bytes.push_back(b);
      sets[h].views.push_back({ptr, d.dtype, d.shape, contiguous_strides(d.shape)});
    }
  double bytes = sp.work(p).min_bytes;
  const int rounds = argc > 4 ? std::atoi(argv[4]) : 30;
  std::vector<double> t[4];
  for (int r = 0; r < rounds + 3; ++r)
    for (int cfg = 0; cfg < 4; ++cfg) {
      const int h = cfg & 1; const bool warm = cfg & 2;
      flush(sets[h], warm);
      auto t0 = std::chrono::steady_clock::now();
      if (!impl.run(p, {}, sets[h].views, {}).ok()) { puts("run failed"); return 1; }
      auto t1 = std::chrono::steady_clock::now();
      if (r >= 3) t[cfg].push_back(std::chrono::duration<double>(t1 - t0).count());
    }
  const char* names[4] = {"4K pages, cold pool", "huge pages, cold pool", "4K pages, warm pool", "huge pages, warm pool"};
  printf("%s  %s  (%d interleaved rounds)\n", argv[1], argv[3], rounds);
  for (int c = 0; c < 4; ++c) {
    auto v = t[c]; std::sort(v.begin(), v.end());
    double med = v[v.size() / 2], q1 = v[v.size() / 4], q3 = v[3 * v.size() / 4];
    printf("  %-22s median %8.1f us  %5.1f GB/s  (IQR %.1f-%.1f GB/s)\n", names[c], med * 1e6, bytes / med / 1e9, bytes / q3 / 1e9, bytes / q1 / 1e9);
  }
}
