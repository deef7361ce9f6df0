// Session 23: idot-dotpanel.cpp (its set1-broadcast kernel only) with MB (rows of X a pass) as a template parameter, 2-6. The rolled quad loop as
// written; add "#pragma GCC unroll 8" before the quad loop of dot_panel for the unrolled variant. Build: g++ -O2 -std=c++20 idot-dotpanel-rows.cpp
// cpu.idot's DotPanel structure in isolation (L1/L2-resident): 4 rows of X x 64 weight rows x 8 quads per block.
#include <immintrin.h>
#include <chrono>
#include <cstdio>
#include <cstdint>
#include <cstring>
#include <vector>
#define T __attribute__((target("avx512f,avx512bw,avx512vnni,avx512dq"), always_inline)) inline
constexpr int NV = 4;
template <bool Epi, int MB>
T void dot_panel(const uint8_t* panel, const int8_t* xb, int64_t ldq, const float* d, float* g) {
  __m512i acc[MB][NV];
#pragma GCC unroll 16
  for (int m = 0; m < MB; ++m) for (int i = 0; i < NV; ++i) acc[m][i] = _mm512_setzero_si512();
  for (int q = 0; q < 8; ++q) {
    const int32_t* pq = reinterpret_cast<const int32_t*>(panel + q * 256);
    __m512i x[MB];
#pragma GCC unroll 4
    for (int m = 0; m < MB; ++m) { int32_t v; memcpy(&v, xb + m * ldq + 4 * q, 4); x[m] = _mm512_set1_epi32(v); }
#pragma GCC unroll 4
    for (int i = 0; i < NV; ++i) {
      const __m512i w = _mm512_load_si512(pq + 16 * i);
#pragma GCC unroll 4
      for (int m = 0; m < MB; ++m) acc[m][i] = _mm512_dpbusd_epi32(acc[m][i], w, x[m]);
    }
  }
#pragma GCC unroll 4
  for (int m = 0; m < MB; ++m) {
    const __m512 dv = _mm512_set1_ps(d[m]);
#pragma GCC unroll 4
    for (int i = 0; i < NV; ++i) {
      float* p = g + m * 64 + 16 * i;
      if (Epi) _mm512_store_ps(p, _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(acc[m][i], _mm512_set1_epi32(m))), dv, _mm512_load_ps(p)));
      else _mm512_store_ps(p, _mm512_castsi512_ps(acc[m][i]));
    }
  }
}
template <bool Epi, int MB>
__attribute__((target("avx512f,avx512bw,avx512vnni,avx512dq"), noinline)) void sweep(const uint8_t* panel, const int8_t* xq, int64_t ldq, int64_t rows, int blocks, const float* d, float* g) {
  for (int b = 0; b < blocks; ++b)
    for (int64_t m = 0; m < rows; m += MB) dot_panel<Epi, MB>(panel + b * 2048, xq + m * ldq + b * 32, ldq, d + m, g + m * 64);
}
template <int MB>
void bench(int64_t rows, int64_t ldq) {
  const int blocks = int(ldq / 32);
  std::vector<uint8_t> panel(size_t(blocks) * 2048 + 64, 1);
  std::vector<int8_t> xq(size_t((rows + 8) * ldq), 1);
  std::vector<float> d(rows + 8, 1.0f);
  float* g = static_cast<float*>(aligned_alloc(64, size_t(rows + 8) * 64 * 4));
  memset(g, 0, size_t(rows + 8) * 256);
  uint8_t* p = reinterpret_cast<uint8_t*>((reinterpret_cast<uintptr_t>(panel.data()) + 63) & ~uintptr_t(63));
  const int64_t r = rows / MB * MB;
  double best = 1e9;
  for (int rep = 0; rep < 7; ++rep) {
    auto t0 = std::chrono::steady_clock::now();
    for (int it = 0; it < 20; ++it) sweep<true, MB>(p, xq.data(), ldq, r, blocks, d.data(), g);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (s < best) best = s;
  }
  printf("MB %d rows %ld: %.2f G vpdpbusd/s one thread\n", MB, r, 20.0 * blocks * (r / MB) * 8 * NV * MB / best / 1e9);
  free(g);
}
int main() {
  for (int rep = 0; rep < 2; ++rep) { bench<2>(256, 4096); bench<3>(256, 4096); bench<4>(256, 4096); bench<5>(256, 4096); bench<6>(256, 4096); }
}
