// Session 26 (Zen 5 EPYC VM): 2-bit row-lane loop variants, one thread, L1/L2-resident: per block, 2 vectors (u) x 4 rows (m).
// S: blocks per table step (cvt + FMA once per S blocks); SPLIT: indices pre-split in W (loads, no shift/ternlog);
// PAIR: lo+hi lookups added bytewise (7-bit tables) before one vpdpbusd.
#include <immintrin.h>
#include <chrono>
#include <cstdio>
#include <cstdint>
#include <algorithm>
#define T __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512vbmi,avx512vnni")))
alignas(64) static uint8_t W[1024 * 1024], TB[4][16 * 1024];
alignas(64) static float TS[4][256];
T static inline __m512i dp(__m512i acc, __m512i u, __m512i x) { asm("vpdpbusd %2, %1, %0" : "+v"(acc) : "v"(u), "v"(x)); return acc; }
template <int S, int SPLIT, int PAIR, int PF>
__attribute__((noinline)) T float run(int blocks, int reps) {
  const __m512i nibble = _mm512_set1_epi8(0x0f);
  const __m512i select[2] = {_mm512_set1_epi32(0x10100000), _mm512_set1_epi32(0x30302020)};
  const __m512i weights = _mm512_set1_epi32(0x02010201), start = _mm512_set1_epi32(-4096);
  __m512 tot = _mm512_setzero_ps();
  for (int r = 0; r < reps; ++r) {
    for (int v0 = 0; v0 < 4; v0 += 2) {
      __m512 g[2][4];
      for (int u = 0; u < 2; ++u) for (int m = 0; m < 4; ++m) g[u][m] = _mm512_setzero_ps();
      for (int b0 = 0; b0 < blocks; b0 += S) {
        __m512i sum[2][4];
        for (int u = 0; u < 2; ++u) for (int m = 0; m < 4; ++m) sum[u][m] = start;
        for (int blk = b0; blk < b0 + S; ++blk) {
          if (PF) {
            _mm_prefetch((const char*)(W + (blk + 16) * 1024 + v0 * 256), _MM_HINT_T0);
            _mm_prefetch((const char*)(W + (blk + 16) * 1024 + v0 * 256 + 64), _MM_HINT_T0);
            _mm_prefetch((const char*)(W + (blk + 16) * 1024 + v0 * 256 + 128), _MM_HINT_T0);
            _mm_prefetch((const char*)(W + (blk + 16) * 1024 + v0 * 256 + 192), _MM_HINT_T0);
            _mm_prefetch((const char*)(TB[v0] + (blk + 16) * 128), _MM_HINT_T0);
            _mm_prefetch((const char*)(TB[v0] + (blk + 16) * 128 + 64), _MM_HINT_T0);
          }
          __m512i lo[2][2], hi[2][2];
          for (int u = 0; u < 2; ++u) for (int h = 0; h < 2; ++h) {
            if (SPLIT) {
              lo[u][h] = _mm512_load_si512(W + blk * 1024 + (2 * (v0 + u) + h) * 128);
              hi[u][h] = _mm512_load_si512(W + blk * 1024 + (2 * (v0 + u) + h) * 128 + 64);
            } else {
              const __m512i w = _mm512_load_si512(W + blk * 512 + (2 * (v0 + u) + h) * 64);
              lo[u][h] = _mm512_ternarylogic_epi32(w, nibble, select[h], 0xEA);
              hi[u][h] = _mm512_ternarylogic_epi32(_mm512_srli_epi16(w, 4), nibble, select[h], 0xEA);
            }
          }
          for (int m = 0; m < 4; ++m) {
            const __m512i tl = _mm512_load_si512(TB[m] + blk * 128), th = _mm512_load_si512(TB[m] + blk * 128 + 64);
            for (int u = 0; u < 2; ++u)
              for (int h = 0; h < 2; ++h) {
                if (PAIR) sum[u][m] = dp(sum[u][m], _mm512_add_epi8(_mm512_permutexvar_epi8(lo[u][h], tl), _mm512_permutexvar_epi8(hi[u][h], th)), weights);
                else { sum[u][m] = dp(sum[u][m], _mm512_permutexvar_epi8(lo[u][h], tl), weights); sum[u][m] = dp(sum[u][m], _mm512_permutexvar_epi8(hi[u][h], th), weights); }
              }
          }
        }
        for (int m = 0; m < 4; ++m) for (int u = 0; u < 2; ++u)
          g[u][m] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sum[u][m]), _mm512_set1_ps(TS[m][b0]), g[u][m]);
      }
      for (int u = 0; u < 2; ++u) for (int m = 0; m < 4; ++m) tot = _mm512_add_ps(tot, g[u][m]);
    }
  }
  return _mm512_reduce_add_ps(tot);
}
template <int S, int SPLIT, int PAIR, int PF> void go(const char* name) {
  const int blocks = 128;
  double best = 1e9; float sink = 0;
  const int reps = 400000 / blocks;
  for (int t = 0; t < 7; ++t) {
    auto t0 = std::chrono::steady_clock::now();
    sink += run<S, SPLIT, PAIR, PF>(blocks, reps);
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  const double per = best / (double(reps) * blocks * 2) * 1e9;
  printf("%-34s %.2f ns per block-iteration = %.1f cycles at 4.1 GHz [%g]\n", name, per, per * 4.1, sink);
}
int main() {
  for (int i = 0; i < (int)sizeof(W); ++i) W[i] = uint8_t(i * 37) & 0x3f;
  for (int m = 0; m < 4; ++m) for (int i = 0; i < 16 * 1024; ++i) TB[m][i] = uint8_t(i * 11 + m) & 0x7f;
  for (int m = 0; m < 4; ++m) for (int i = 0; i < 256; ++i) TS[m][i] = 0.001f * (i + 1);
  for (int rep = 0; rep < 2; ++rep) {
  go<1, 0, 0, 1>("S1 (library's loop, prefetch)");
  go<1, 0, 0, 0>("S1 no prefetch");
  go<4, 0, 0, 1>("S4");
  go<1, 1, 0, 1>("S1 split");
  go<4, 1, 0, 1>("S4 split");
  go<1, 1, 1, 1>("S1 split pair");
  go<4, 1, 1, 1>("S4 split pair");
  go<4, 0, 1, 1>("S4 pair");
  }
}
