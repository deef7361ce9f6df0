// Session 23 microbenchmark (Zen 5 EPYC VM). Build: g++ -O2 -std=c++20 bf16dot-chains.cpp -o /tmp/x && /tmp/x   (idot-dotpanel: add an argument for the embedded-broadcast variant)
#include <immintrin.h>
#include <chrono>
#include <cstdio>
template <int C>
__attribute__((target("avx512f,avx512bf16"))) __attribute__((noinline)) float dot(long iters) {
  __m512 acc[C];
  for (int i = 0; i < C; ++i) acc[i] = _mm512_set1_ps(1.0f + i);
  const __m512bh a = _mm512_cvtne2ps_pbh(_mm512_set1_ps(1e-3f), _mm512_set1_ps(1e-3f));
  for (long n = 0; n < iters; ++n) {
#pragma GCC unroll 32
    for (int i = 0; i < C; ++i) acc[i] = _mm512_dpbf16_ps(acc[i], a, a);
  }
  __m512 s = acc[0];
  for (int i = 1; i < C; ++i) s = _mm512_add_ps(s, acc[i]);
  return _mm512_reduce_add_ps(s);
}
template <int C>
__attribute__((target("avx512f"))) __attribute__((noinline)) float fma(long iters) {
  __m512 acc[C];
  for (int i = 0; i < C; ++i) acc[i] = _mm512_set1_ps(1.0f + i);
  const __m512 a = _mm512_set1_ps(0.9999999f), b = _mm512_set1_ps(1e-7f);
  for (long n = 0; n < iters; ++n) {
#pragma GCC unroll 32
    for (int i = 0; i < C; ++i) acc[i] = _mm512_fmadd_ps(acc[i], a, b);
  }
  __m512 s = acc[0];
  for (int i = 1; i < C; ++i) s = _mm512_add_ps(s, acc[i]);
  return _mm512_reduce_add_ps(s);
}
template <class F> double t(F f, long it, int C, int fl) {
  double best = 1e9; float sink = 0;
  for (int r = 0; r < 7; ++r) { auto a = std::chrono::steady_clock::now(); sink += f(it); double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - a).count(); if (s < best) best = s; }
  if (sink == 12345) puts("");
  return double(it) * C * 16 * fl / best / 1e9;
}
int main() {
  long it = 20000000;
  printf("fma12 %.1f fma16 %.1f dot12 %.1f dot16 %.1f dot24 %.1f GFLOP/s one thread\n", t(fma<12>, it, 12, 2), t(fma<16>, it, 16, 2), t(dot<12>, it, 12, 4), t(dot<16>, it, 16, 4), t(dot<24>, it, 24, 4));
}
