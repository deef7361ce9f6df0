// Session 24 (Zen 5 EPYC VM), one thread, L1-resident bf16 rows: SiLU(g) * u with the fusion layer's math
// (include/tessel/fuse/math.hpp), bf16 loads by widening, stores by the integer rounding (hw=0) or by
// vcvtneps2bf16 (hw=1); K vectors a step (K=2: two independent chains in one block).
// Build: g++ -O3 -std=c++20 -I include bench/results/cpu/silu-bf16-l1-zen5-2026-11-30-session24.cpp -o /tmp/silu && /tmp/silu
#include <chrono>
#include <cstdio>
#include <cstdint>
#include <cstring>
#include <algorithm>
#include "tessel/fuse/math.hpp"
using namespace tessel::fuse;
using V = VecTypes<16>::F;
#define TGT __attribute__((noinline, flatten, target("avx512f,avx512bw,avx512dq,avx512vl,avx2,fma,f16c")))
alignas(64) static uint16_t G[4096], U[4096], O[4096];
__attribute__((target("avx512f,avx512bw"), always_inline)) inline V ld(const uint16_t* p) {
  return (V)_mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_load_si256((const __m256i*)p)), 16));
}
__attribute__((target("avx512f,avx512bw"), always_inline)) inline void st(uint16_t* p, V v) {
  __m512i b = _mm512_castps_si512((__m512)v);
  b = _mm512_add_epi32(b, _mm512_add_epi32(_mm512_set1_epi32(0x7fff), _mm512_and_si512(_mm512_srli_epi32(b, 16), _mm512_set1_epi32(1))));
  _mm256_store_si256((__m256i*)p, _mm512_cvtepi32_epi16(_mm512_srli_epi32(b, 16)));
}
__attribute__((target("avx512f,avx512bw,avx512bf16"), always_inline)) inline void st_hw(uint16_t* p, V v) {
  _mm256_store_si256((__m256i*)p, (__m256i)_mm512_cvtneps_pbh((__m512)v));
}
template <int K> __attribute__((noinline, flatten, target("avx512f,avx512bw,avx512dq,avx512vl,avx2,fma,f16c,avx512bf16"))) void run_hw(int reps) {
  for (int r = 0; r < reps; ++r) {
    asm volatile("" ::: "memory");  // one pass per rep: no hoisting across reps
    for (int j = 0; j < 4096; j += 16 * K) {
      V g[K], u[K];
      for (int k = 0; k < K; ++k) g[k] = ld(G + j + 16 * k), u[k] = ld(U + j + 16 * k);
      for (int k = 0; k < K; ++k) st_hw(O + j + 16 * k, silu(g[k]) * u[k]);
    }
  }
}
template <int K> TGT void run(int reps) {
  for (int r = 0; r < reps; ++r) {
    asm volatile("" ::: "memory");  // one pass per rep: no hoisting across reps
    for (int j = 0; j < 4096; j += 16 * K) {
      V g[K], u[K];
      for (int k = 0; k < K; ++k) g[k] = ld(G + j + 16 * k), u[k] = ld(U + j + 16 * k);
      for (int k = 0; k < K; ++k) st(O + j + 16 * k, silu(g[k]) * u[k]);
    }
  }
}
template <int K, bool HW = false> void bench() {
  double best = 1e9;
  for (int t = 0; t < 5; ++t) {
    auto t0 = std::chrono::steady_clock::now();
    if (HW) run_hw<K>(20000); else run<K>(20000);
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  printf("K=%d hw=%d: %.2f G elem/s one thread\n", K, int(HW), 20000.0 * 4096 / best / 1e9);
}
int main() {
  for (int i = 0; i < 4096; ++i) { float g = (i % 97) * 0.1f - 5, u = (i % 13) * 0.3f; uint32_t a, b; memcpy(&a, &g, 4); memcpy(&b, &u, 4); G[i] = a >> 16; U[i] = b >> 16; }
  bench<1>(); bench<1, true>(); bench<2>(); bench<2, true>(); bench<1>(); bench<1, true>();
}
