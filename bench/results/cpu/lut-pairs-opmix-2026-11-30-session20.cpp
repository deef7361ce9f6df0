// Session 20 microbenchmark (issue 5): the m = 8 2-bit LUT tile's inner op mix, hot, one thread.
//  planar: today's cpu.lut AVX3_DL loop (per 64 B of W and row of X: 2 vpermb, 2 vpmaddubsw, 2 vpaddw;
//          shared: load, shift), 4 rows of X a pass, int16 accumulators.
//  pairs:  a 16-entry table over two 2-bit weights, four bytes of one row in a 32-bit lane (per 64 B and
//          row: 2 vpermb, 2 vpdpbusd against ones; shared: load, ternlog, shift, ternlog), int32 accumulators.
// Both cover the same weights: a 64-row tile, k = 4096, 2 bits (64 KiB), four rows of X; results are
// not checked against each other (only the op mix is timed). Build:
//   g++ -O2 -march=icelake-server bench/results/cpu/lut-pairs-opmix-2026-11-30-session20.cpp -o /tmp/pairs && /tmp/pairs
#include <immintrin.h>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <algorithm>
#include <vector>

constexpr int K = 4096, ROWS = 64, MB = 4;
alignas(64) static uint8_t W[ROWS * K / 4];                  // 64 KiB
alignas(64) static uint8_t TA[MB][K / 8][32];                 // planar: per octet, tlo and thi (16 B each)
alignas(64) static uint8_t TB[MB][K / 16][128];               // pairs: per 16 of K, lo and hi (64 B each)
volatile int sink;

__attribute__((noinline)) int planar() {
  const __m512i c = _mm512_set1_epi16(0x0201);  // plane weights (1, 2) as u8 x s8 pairs
  int out = 0;
  __m512i acc[MB][2];
  for (int m = 0; m < MB; ++m) acc[m][0] = acc[m][1] = _mm512_setzero_si512();
  for (int o = 0; o < K / 8; ++o) {
    __m512i tlo[MB], thi[MB];
    for (int m = 0; m < MB; ++m) {
      tlo[m] = _mm512_broadcast_i32x4(_mm_load_si128((const __m128i*)TA[m][o]));
      thi[m] = _mm512_broadcast_i32x4(_mm_load_si128((const __m128i*)(TA[m][o] + 16)));
    }
#pragma GCC unroll 2
    for (int i = 0; i < 2; ++i) {
      const __m512i w = _mm512_load_si512(W + o * 128 + i * 64);
      const __m512i hi = _mm512_srli_epi16(w, 4);
#pragma GCC unroll 4
      for (int m = 0; m < MB; ++m) {
        const __m512i s = _mm512_add_epi16(_mm512_maddubs_epi16(_mm512_permutexvar_epi8(w, tlo[m]), c),
                                           _mm512_maddubs_epi16(_mm512_permutexvar_epi8(hi, thi[m]), c));
        acc[m][i] = _mm512_add_epi16(acc[m][i], s);
      }
    }
  }
  for (int m = 0; m < MB; ++m) out += _mm512_reduce_add_epi32(_mm512_add_epi32(acc[m][0], acc[m][1]));
  return out;
}

__attribute__((noinline)) int pairs() {
  const __m512i ones = _mm512_set1_epi8(1);
  const __m512i nib = _mm512_set1_epi8(0x0f);
  const __m512i sel = _mm512_set1_epi32(0x30201000);  // byte position in the lane -> table 0..3
  int out = 0;
  __m512i acc[MB][4];
  for (int m = 0; m < MB; ++m)
    for (int v = 0; v < 4; ++v) acc[m][v] = _mm512_setzero_si512();
  for (int s = 0; s < K / 16; ++s) {
#pragma GCC unroll 4
    for (int v = 0; v < 4; ++v) {
      const __m512i w = _mm512_load_si512(W + s * 256 + v * 64);
      const __m512i lo = _mm512_ternarylogic_epi32(w, nib, sel, 0xEA);  // (w & nib) | sel
      const __m512i hi = _mm512_ternarylogic_epi32(_mm512_srli_epi16(w, 4), nib, sel, 0xEA);
#pragma GCC unroll 4
      for (int m = 0; m < MB; ++m) {
        const __m512i tl = _mm512_load_si512(TB[m][s]), th = _mm512_load_si512(TB[m][s] + 64);
        acc[m][v] = _mm512_dpbusd_epi32(acc[m][v], _mm512_permutexvar_epi8(lo, tl), ones);
        acc[m][v] = _mm512_dpbusd_epi32(acc[m][v], _mm512_permutexvar_epi8(hi, th), ones);
      }
    }
  }
  for (int m = 0; m < MB; ++m)
    for (int v = 0; v < 4; ++v) out += _mm512_reduce_add_epi32(acc[m][v]);
  return out;
}

int main() {
  srand(1);
  for (auto& b : W) b = uint8_t(rand());
  for (auto& r : TA) for (auto& o : r) for (auto& b : o) b = uint8_t(rand());
  for (auto& r : TB) for (auto& o : r) for (auto& b : o) b = uint8_t(rand());
  std::vector<double> ta, tb;
  for (int rep = 0; rep < 4000; ++rep) {
    auto t0 = std::chrono::steady_clock::now();
    sink = planar();
    auto t1 = std::chrono::steady_clock::now();
    sink = pairs();
    auto t2 = std::chrono::steady_clock::now();
    ta.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
    tb.push_back(std::chrono::duration<double, std::micro>(t2 - t1).count());
  }
  std::sort(ta.begin(), ta.end());
  std::sort(tb.begin(), tb.end());
  // Per 64 B of W and row of X: 1024 vectors of 64 B per tile, 4 rows.
  std::printf("planar: median %.2f us (p10 %.2f), %.2f ns per 64 B and row\n", ta[ta.size() / 2], ta[ta.size() / 10],
              ta[ta.size() / 2] * 1e3 / (1024 * MB));
  std::printf("pairs:  median %.2f us (p10 %.2f), %.2f ns per 64 B and row\n", tb[tb.size() / 2], tb[tb.size() / 10],
              tb[tb.size() / 2] * 1e3 / (1024 * MB));
  std::printf("planar / pairs: %.3f\n", ta[ta.size() / 2] / tb[tb.size() / 2]);
}
