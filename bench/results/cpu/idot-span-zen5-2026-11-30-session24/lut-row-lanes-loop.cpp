// Session 24 (Zen 5 EPYC VM), one thread: cpu.lut's 1-bit row-lane loop (LutRowLanesTile<1, 4>: per block and 16 rows, 2 vpermb +
// 2 vpdpbusd + 1 FMA for each of 4 rows of X) on L1/L2-resident data, without the group close, the tables' build or the copy-out.
// Build: g++ -O3 -std=c++20 lut-row-lanes-loop.cpp -o /tmp/rl && /tmp/rl (results: lut-row-lanes-loop.txt)
#include <immintrin.h>
#include <chrono>
#include <cstdio>
#include <cstdint>
#include <cstring>
#include <algorithm>
#define T __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512vbmi,avx512vnni")))
alignas(64) static uint8_t W[64 * 1024], TB[4][16 * 1024];
alignas(64) static float TS[4][256];
T static inline __m512i dp(__m512i acc, __m512i u, __m512i x) { return _mm512_dpbusd_epi32(acc, u, x); }
template <int MB>
__attribute__((noinline)) T float run(int blocks, int reps) {
  const __m512i nibble = _mm512_set1_epi8(0x0f), select = _mm512_set1_epi32(0x30201000);
  const __m512i weights = _mm512_set1_epi32(0x01010101), start = _mm512_set1_epi32(-4096);
  __m512 tot = _mm512_setzero_ps();
  for (int r = 0; r < reps; ++r) {
    for (int b0 = 0; b0 < blocks; b0 += 4) {
      for (int v = 0; v < 4; ++v) {
        __m512 g[MB];
        for (int m = 0; m < MB; ++m) g[m] = _mm512_setzero_ps();
        for (int blk = b0; blk < b0 + 4; ++blk) {
          const __m512i w = _mm512_load_si512(W + blk * 256 + v * 64);
          const __m512i lo = _mm512_ternarylogic_epi32(w, nibble, select, 0xEA);
          const __m512i hi = _mm512_ternarylogic_epi32(_mm512_srli_epi16(w, 4), nibble, select, 0xEA);
          for (int m = 0; m < MB; ++m) {
            const __m512i tl = _mm512_load_si512(TB[m] + blk * 128), th = _mm512_load_si512(TB[m] + blk * 128 + 64);
            __m512i sum = start;
            sum = dp(sum, _mm512_permutexvar_epi8(lo, tl), weights);
            sum = dp(sum, _mm512_permutexvar_epi8(hi, th), weights);
            g[m] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sum), _mm512_set1_ps(TS[m][blk]), g[m]);
          }
        }
        for (int m = 0; m < MB; ++m) tot = _mm512_add_ps(tot, g[m]);
      }
    }
  }
  return _mm512_reduce_add_ps(tot);
}
int main() {
  for (int i = 0; i < (int)sizeof(W); ++i) W[i] = uint8_t(i * 37);
  for (int m = 0; m < 4; ++m) for (int i = 0; i < 16 * 1024; ++i) TB[m][i] = uint8_t(i * 11 + m);
  for (int m = 0; m < 4; ++m) for (int i = 0; i < 256; ++i) TS[m][i] = 0.001f * (i + 1);
  for (int blocks : {16, 64, 128}) {
    double best = 1e9; float sink = 0;
    const int reps = 200000 / blocks;
    for (int t = 0; t < 5; ++t) {
      auto t0 = std::chrono::steady_clock::now();
      sink += run<4>(blocks, reps);
      best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
    const double iters = double(reps) * blocks * 4;  // block-iterations (per v)
    printf("blocks %3d (tables %5d B a row): %.2f ns per block-iteration = %.1f cycles at 4.1 GHz (ideal 10)  [%g]\n", blocks, blocks * 128, best / iters * 1e9, best / iters * 4.1e9, sink);
  }
}
