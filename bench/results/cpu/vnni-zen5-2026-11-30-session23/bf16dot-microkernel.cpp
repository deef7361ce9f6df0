// Session 23 microbenchmark (Zen 5 EPYC VM). Build: g++ -O2 -std=c++20 bf16dot-microkernel.cpp -o /tmp/x && /tmp/x   (idot-dotpanel: add an argument for the embedded-broadcast variant)
// micro-kernel variants of cpu.bf16dot, L1-resident panels, one thread
#include <immintrin.h>
#include <chrono>
#include <cstdio>
#include <cstdint>
#include <vector>
constexpr int kMR = 14, kNR = 32;
#define T __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512bf16")))
T __attribute__((noinline)) void k_set1(int64_t kp, const uint32_t* __restrict ap, const uint32_t* __restrict bp, float* __restrict c, int64_t ldc) {
  __m512 acc0[kMR], acc1[kMR];
  for (int i = 0; i < kMR; ++i) { acc0[i] = _mm512_setzero_ps(); acc1[i] = _mm512_setzero_ps(); }
  for (int64_t p = 0; p < kp; ++p) {
    const __m512bh b0 = (__m512bh)_mm512_load_si512(bp), b1 = (__m512bh)_mm512_load_si512(bp + 16);
#pragma GCC unroll 14
    for (int i = 0; i < kMR; ++i) {
      const __m512bh a = (__m512bh)_mm512_set1_epi32(int(ap[i]));
      acc0[i] = _mm512_dpbf16_ps(acc0[i], a, b0);
      acc1[i] = _mm512_dpbf16_ps(acc1[i], a, b1);
    }
    ap += kMR; bp += kNR;
  }
  for (int i = 0; i < kMR; ++i) { _mm512_storeu_ps(c + i * ldc, _mm512_add_ps(acc0[i], _mm512_loadu_ps(c + i * ldc))); _mm512_storeu_ps(c + i * ldc + 16, _mm512_add_ps(acc1[i], _mm512_loadu_ps(c + i * ldc + 16))); }
}
T __attribute__((noinline)) void k_bcst(int64_t kp, const uint32_t* __restrict ap, const uint32_t* __restrict bp, float* __restrict c, int64_t ldc) {
  __m512 acc0[kMR], acc1[kMR];
  for (int i = 0; i < kMR; ++i) { acc0[i] = _mm512_setzero_ps(); acc1[i] = _mm512_setzero_ps(); }
  for (int64_t p = 0; p < kp; ++p) {
    const __m512 b0 = _mm512_load_ps(bp), b1 = _mm512_load_ps(bp + 16);
#pragma GCC unroll 14
    for (int i = 0; i < kMR; ++i) {
      asm("vdpbf16ps %2%{1to16%}, %1, %0" : "+v"(acc0[i]) : "v"(b0), "m"(ap[i]));
      asm("vdpbf16ps %2%{1to16%}, %1, %0" : "+v"(acc1[i]) : "v"(b1), "m"(ap[i]));
    }
    ap += kMR; bp += kNR;
  }
  for (int i = 0; i < kMR; ++i) { _mm512_storeu_ps(c + i * ldc, _mm512_add_ps(acc0[i], _mm512_loadu_ps(c + i * ldc))); _mm512_storeu_ps(c + i * ldc + 16, _mm512_add_ps(acc1[i], _mm512_loadu_ps(c + i * ldc + 16))); }
}
template <class F> double run(F f, const uint32_t* a, const uint32_t* b, float* c, int64_t kp, int panels) {
  double best = 1e9;
  for (int r = 0; r < 9; ++r) {
    auto t0 = std::chrono::steady_clock::now();
    for (int it = 0; it < 200; ++it) for (int q = 0; q < panels; ++q) f(kp, a + q * kp * kMR, b, c, 32);
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (s < best) best = s;
  }
  return 200.0 * panels * kMR * 32 * kp * 4 / best / 1e9;
}
int main() {
  const int64_t kp = 256; const int panels = 24;  // kc = 512, mc = 336: A block in L2, B panel in L1
  std::vector<uint32_t> a(size_t(kp) * kMR * panels, 0x3f803f80u), b(size_t(kp) * kNR + 64, 0x3c003c00u);
  alignas(64) static float c[kMR * 32];
  uint32_t* bb = reinterpret_cast<uint32_t*>((reinterpret_cast<uintptr_t>(b.data()) + 63) & ~uintptr_t(63));
  for (int r = 0; r < 3; ++r)
    printf("set1 %.1f  bcst %.1f GFLOP/s one thread\n", run(k_set1, a.data(), bb, c, kp, panels), run(k_bcst, a.data(), bb, c, kp, panels));
}
