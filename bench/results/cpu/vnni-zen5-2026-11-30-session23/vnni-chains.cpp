// Session 23 microbenchmark (Zen 5 EPYC VM). Build: g++ -O2 -std=c++20 vnni-chains.cpp -o /tmp/x && /tmp/x   (idot-dotpanel: add an argument for the embedded-broadcast variant)
#include <immintrin.h>
#include <chrono>
#include <cstdio>
template <int C>
__attribute__((target("avx512f,avx512bw,avx512vnni"))) __attribute__((noinline)) int run(long iters) {
  __m512i acc[C];
  for (int i = 0; i < C; ++i) acc[i] = _mm512_set1_epi32(i);
  const __m512i a = _mm512_set1_epi8(3), b = _mm512_set1_epi8(-2);
  for (long n = 0; n < iters; ++n) {
#pragma GCC unroll 32
    for (int i = 0; i < C; ++i) acc[i] = _mm512_dpbusd_epi32(acc[i], a, b);
  }
  __m512i s = acc[0];
  for (int i = 1; i < C; ++i) s = _mm512_add_epi32(s, acc[i]);
  return _mm512_reduce_add_epi32(s);
}
template <class F> double t(F f, long it, int C) {
  double best = 1e9; int sink = 0;
  for (int r = 0; r < 7; ++r) { auto a = std::chrono::steady_clock::now(); sink += f(it); double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - a).count(); if (s < best) best = s; }
  if (sink == 12345) puts("");
  return double(it) * C / best / 1e9;  // instructions per ns
}
int main() {
  long it = 20000000;
  printf("vpdpbusd zmm G instr/s one thread: C=8 %.2f C=12 %.2f C=16 %.2f C=24 %.2f\n", t(run<8>, it, 8), t(run<12>, it, 12), t(run<16>, it, 16), t(run<24>, it, 24));
}
