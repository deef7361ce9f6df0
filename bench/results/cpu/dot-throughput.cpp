// Issue rate of vdpbf16ps (AVX512-BF16) against vfmadd231ps, the reason cpu.bf16dot ranks below cpu.simd.
//
// 24 independent accumulators in registers, no memory traffic, so the loop measures how many of
// each instruction the core retires per second. One vdpbf16ps does 32 multiply-adds and one
// vfmadd231ps 16, so bf16 dots win only if they issue at more than half the FMA rate. On the 2-vCPU
// Sapphire Rapids VM (2026-11-28, two runs under load): 5.6-7.0 G FMA/s, 1.41-1.75 G vdpbf16ps/s.
// Build and run: g++ -O2 -std=c++20 bench/results/cpu/dot-throughput.cpp -o /tmp/dot && /tmp/dot
#include <immintrin.h>

#include <chrono>
#include <cstdio>

template <bool kDot>
__attribute__((target("avx512f,avx512bf16"), noinline)) float run(long iters) {
  __m512 acc[24];
  for (auto& a : acc) a = _mm512_set1_ps(0.f);
  __m512 a = _mm512_set1_ps(1e-3f);
  const __m512 b = _mm512_set1_ps(1e-3f);
  for (long it = 0; it < iters; ++it) {
#pragma GCC unroll 24
    for (int i = 0; i < 24; ++i) {
      if constexpr (kDot) acc[i] = _mm512_dpbf16_ps(acc[i], (__m512bh)a, (__m512bh)b);
      else acc[i] = _mm512_fmadd_ps(a, b, acc[i]);
    }
    __asm__ volatile("" : "+v"(a));  // keeps the operands from being hoisted as constants
  }
  alignas(64) float lanes[16];
  float s = 0;
  for (auto& x : acc) {
    _mm512_store_ps(lanes, x);
    for (float v : lanes) s += v;
  }
  return s;
}

int main() {
  for (int rep = 0; rep < 3; ++rep)
    for (int dot = 0; dot < 2; ++dot) {
      const long n = 20000000;
      const auto t0 = std::chrono::steady_clock::now();
      const float s = dot ? run<true>(n) : run<false>(n);
      const double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      std::printf("%s: %.2f G instructions/s (checksum %g)\n", dot ? "vdpbf16ps  " : "vfmadd231ps", 24.0 * n / dt / 1e9, s);
    }
}
