// Would five trits a byte make the ternary GEMV faster? A prototype measured against cpu.lut.
//
// cpu.lut reads ternary weights as two bit planes (2 bits a weight) and, at m = 1, streams them at
// about the two cores' read rate (docs/formats.md), so fewer bytes should mean less time. Five
// ternary digits make 3^5 = 243 values, one byte: v = sum_i d_i 3^i in [-121, 121], stored as sign
// and magnitude (bit 7 the sign). A table of the 128 sums T[j] = sum_i digit_i(j) x_i of a chunk of
// five activations (j's balanced-ternary digits; T[-j] = -T[j]) is looked up by the magnitude with
// one vpermi2b per 64 rows, and the sign negates the lookup: 1.6 bits a weight instead of 2.
//
// This file builds the prototype kernel (AVX-512 VBMI, one row of X, two 64-row tiles side by
// side as cpu.lut's GEMV does), checks it against a double reference, and times it cold and
// interleaved with cpu.lut on the same matrix in the two-plane format. Not part of the build; from
// the repo root, after building build/cpu:
//   g++ -std=c++20 -O2 -march=native -I include -I src -I src/ops bench/results/cpu/ternary5-gemv-probe.cpp \
//       build/cpu/libtessel.a -lhwy -lopenblas -ldnnl -lgomp -lpthread -o /tmp/t5-probe
//   /tmp/t5-probe 4096 4096 40     (N K ROUNDS; env PF, TPF, NT: prefetch distance in bytes, a table
//                                   prefetch that many runs ahead, tiles a row sweeps: 3072, 0, 2)
// Session 15 (2026-11-29): 1.06-1.24x cpu.lut's ternary at n = 4096, k = 4096 and 1.09-1.17x at
// k = 14336 over several runs; the k = 14336 kernel matched a plain two-thread read of its bytes.
// Before its loops were unrolled (HWY_UNROLL in the library) the tables took 25 us a row, after 14.
#include <immintrin.h>
#include <sys/mman.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <vector>

#include "tessel/cpu/parallel.hpp"
#include "tessel/runtime/registry.hpp"

using namespace tessel;

namespace {

constexpr int kRows = 64;        // rows per tile
constexpr int kChunkBlock = 32;  // chunks (of 5 activations) per table step

void* alloc(size_t bytes) {
  const size_t huge = size_t{2} << 20, align = bytes >= huge ? huge : 256;
  const size_t padded = (std::max<size_t>(bytes, 1) + align - 1) / align * align;
  void* p = std::aligned_alloc(align, padded);
  if (bytes >= huge) madvise(p, padded, MADV_HUGEPAGE);
  return p;
}

std::vector<unsigned char> g_scratch(64 << 20, 1);
volatile unsigned char g_sink;
void flush(const std::vector<std::pair<const void*, size_t>>& live) {
  unsigned char acc = 0;
  for (size_t i = 0; i < g_scratch.size(); i += 64) {
    g_scratch[i]++;
    acc ^= g_scratch[i];
  }
  g_sink = acc;
  for (auto [p, bytes] : live)
    for (size_t o = 0; o < bytes; o += 64) _mm_clflush(static_cast<const char*>(p) + o);
  _mm_mfence();
}

// Balanced-ternary digits of table index j (j - 243 past 121, so every byte decodes).
alignas(64) float g_digit[5][128];
void init_digits() {
  for (int j = 0; j < 128; ++j) {
    int v = j <= 121 ? j : j - 243;
    for (int i = 0; i < 5; ++i) {
      const int r = ((v % 3) + 3) % 3, d = r == 2 ? -1 : r;
      g_digit[i][j] = float(d);
      v = (v - d) / 3;
    }
  }
}

struct Packed {
  int64_t n, k, chunks, tiles;
  uint8_t* w;  // [tiles][chunks][64]
};

Packed pack(const std::vector<int8_t>& d, int64_t n, int64_t k) {
  Packed p{n, k, (k + 4) / 5, (n + kRows - 1) / kRows, nullptr};
  const size_t bytes = size_t(p.tiles * p.chunks * kRows);
  p.w = static_cast<uint8_t*>(alloc(bytes));
  std::memset(p.w, 0, bytes);
  for (int64_t r = 0; r < n; ++r)
    for (int64_t c = 0; c < p.chunks; ++c) {
      int v = 0, pw = 1;
      for (int i = 0; i < 5; ++i, pw *= 3)
        if (5 * c + i < k) v += d[size_t(r * k + 5 * c + i)] * pw;
      const uint8_t byte = uint8_t(v < 0 ? 0x80 | -v : v);
      const int64_t t = r / kRows, rr = r % kRows, pos = rr < 32 ? 2 * rr : 2 * (rr - 32) + 1;
      p.w[(t * p.chunks + c) * kRows + pos] = byte;
    }
  return p;
}

// Digit vectors in the order the packing instructions want: packs of four 16-lane vectors interleave
// them by 128-bit lane, so vector q of table half h computes, in lane i, entry
// 64 h + 16 (i / 4) + 4 q + i % 4, and the packed bytes come out in entry order.
alignas(64) float g_digit_packed[5][2][4][16];
void init_packed_digits() {
  for (int i = 0; i < 5; ++i)
    for (int h = 0; h < 2; ++h)
      for (int q = 0; q < 4; ++q)
        for (int l = 0; l < 16; ++l) g_digit_packed[i][h][q][l] = g_digit[i][64 * h + 16 * (l / 4) + 4 * q + l % 4];
}

// Tables of one row of X: per chunk 128 bytes (T[j] / step + 128), per block of 32 chunks a step.
// max |T| over a chunk is sum |x_i| (entry 121: all digits +1), so the step is known before any
// entry is computed, and one pass computes, rounds and packs.
void build_tables(const float* x, int64_t k, int64_t chunks, uint8_t* tbl, float* steps) {
  for (int64_t c0 = 0, b = 0; c0 < chunks; c0 += kChunkBlock, ++b) {
    const int64_t nc = std::min<int64_t>(kChunkBlock, chunks - c0);
    alignas(64) float xs[kChunkBlock][5];
    float amax = 0;
    for (int64_t c = 0; c < nc; ++c) {
      float s = 0;
      for (int i = 0; i < 5; ++i) {
        const int64_t col = 5 * (c0 + c) + i;
        xs[c][i] = col < k ? x[col] : 0.0f;
        s += std::fabs(xs[c][i]);
      }
      amax = std::max(amax, s);
    }
    steps[b] = amax / 127.0f;
    const float inv = amax > 0 ? 127.0f / amax : 0.0f;
    const __m512i flip = _mm512_set1_epi8(char(0x80));
    for (int64_t c = 0; c < nc; ++c) {
      __m512 xv[5];
#pragma GCC unroll 5
      for (int i = 0; i < 5; ++i) xv[i] = _mm512_set1_ps(xs[c][i] * inv);
#pragma GCC unroll 2
      for (int h = 0; h < 2; ++h) {
        __m512i q32[4];
#pragma GCC unroll 4
        for (int q = 0; q < 4; ++q) {
          __m512 v = _mm512_mul_ps(xv[0], _mm512_load_ps(g_digit_packed[0][h][q]));
#pragma GCC unroll 4
          for (int i = 1; i < 5; ++i) v = _mm512_fmadd_ps(xv[i], _mm512_load_ps(g_digit_packed[i][h][q]), v);
          q32[q] = _mm512_cvtps_epi32(v);
        }
        const __m512i w = _mm512_packs_epi16(_mm512_packs_epi32(q32[0], q32[1]), _mm512_packs_epi32(q32[2], q32[3]));
        _mm512_store_si512(tbl + (c0 + c) * 128 + 64 * h, _mm512_xor_si512(w, flip));
      }
    }
  }
}

int64_t g_pf = 3072, g_tpf = 0, g_nt = 2;
// One row of X against NT adjacent tiles; y gets scale[row] * sum.
template <int NT>
void gemv_tiles(const Packed& p, const uint8_t* tbl, const float* steps, const float* scale, int64_t tile, float* y) {
  alignas(64) float g[NT][kRows] = {};
  const __m512i lomask = _mm512_set1_epi16(0xff), zero = _mm512_setzero_si512();
  const uint8_t* wt[NT];
  for (int t = 0; t < NT; ++t) wt[t] = p.w + (tile + t) * p.chunks * kRows;
  for (int64_t c0 = 0, b = 0; c0 < p.chunks; c0 += kChunkBlock, ++b) {
    const int64_t c1 = std::min<int64_t>(c0 + kChunkBlock, p.chunks);
    __m512i lo[NT], hi[NT];
#pragma GCC unroll 4
    for (int t = 0; t < NT; ++t) lo[t] = hi[t] = zero;
    for (int64_t c = c0; c < c1; ++c) {
      if (g_tpf) {
        _mm_prefetch(reinterpret_cast<const char*>(tbl + (c + g_tpf) * 128), _MM_HINT_T0);
        _mm_prefetch(reinterpret_cast<const char*>(tbl + (c + g_tpf) * 128 + 64), _MM_HINT_T0);
      }
      const __m512i ta = _mm512_load_si512(tbl + c * 128), tb = _mm512_load_si512(tbl + c * 128 + 64);
#pragma GCC unroll 4
      for (int t = 0; t < NT; ++t) {
        const uint8_t* wp = wt[t] + c * kRows;
        _mm_prefetch(reinterpret_cast<const char*>(wp + g_pf), _MM_HINT_T1);
        const __m512i w = _mm512_load_si512(wp);
        const __mmask64 neg = _mm512_movepi8_mask(w);
        __m512i r = _mm512_permutex2var_epi8(ta, w, tb);
        r = _mm512_mask_sub_epi8(r, neg, zero, r);
        lo[t] = _mm512_add_epi16(lo[t], _mm512_and_si512(r, lomask));
        hi[t] = _mm512_add_epi16(hi[t], _mm512_srli_epi16(r, 8));
      }
    }
    const __m512i bias = _mm512_set1_epi16(int16_t(128 * (c1 - c0)));
    const __m512 st = _mm512_set1_ps(steps[b]);
#pragma GCC unroll 4
    for (int t = 0; t < NT; ++t) {
      const __m512i l = _mm512_sub_epi16(lo[t], bias), h = _mm512_sub_epi16(hi[t], bias);
      const __m512i parts[4] = {_mm512_cvtepi16_epi32(_mm512_castsi512_si256(l)),
                                _mm512_cvtepi16_epi32(_mm512_extracti64x4_epi64(l, 1)),
                                _mm512_cvtepi16_epi32(_mm512_castsi512_si256(h)),
                                _mm512_cvtepi16_epi32(_mm512_extracti64x4_epi64(h, 1))};
      for (int q = 0; q < 4; ++q)
        _mm512_store_ps(g[t] + 16 * q, _mm512_fmadd_ps(_mm512_cvtepi32_ps(parts[q]), st, _mm512_load_ps(g[t] + 16 * q)));
    }
  }
  for (int t = 0; t < NT; ++t) {
    const int64_t r0 = (tile + t) * kRows;
    for (int r = 0; r < kRows && r0 + r < p.n; ++r) y[r0 + r] = g[t][r] * scale[r0 + r];
  }
}

// A plain two-thread read of n bytes (64-bit lane sums, a prefetch 1 KiB ahead): the floor.
volatile long long g_read_sink;
void read_stream(const uint8_t* w, size_t bytes) {
  const size_t vecs = bytes / 64;
  long long parts[2] = {};
  cpu::parallel_for(2, 2, [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      const auto* p = reinterpret_cast<const __m512i*>(w);
      __m512i s0 = _mm512_setzero_si512(), s1 = s0;
      const size_t v0 = vecs * size_t(b) / 2, v1 = vecs * size_t(b + 1) / 2;
      size_t v = v0;
      for (; v + 2 <= v1; v += 2) {
        _mm_prefetch(reinterpret_cast<const char*>(p + v + 16), _MM_HINT_T1);
        _mm_prefetch(reinterpret_cast<const char*>(p + v + 17), _MM_HINT_T1);
        s0 = _mm512_add_epi64(s0, _mm512_load_si512(p + v));
        s1 = _mm512_add_epi64(s1, _mm512_load_si512(p + v + 1));
      }
      parts[b] = _mm512_reduce_add_epi64(_mm512_add_epi64(s0, s1));
    }
  });
  g_read_sink = parts[0] + parts[1];
}

struct Scratch {
  uint8_t* tbl;
  float* steps;
};

void gemv(const Packed& p, const float* x, const float* scale, float* y, Scratch s) {
  const int64_t blocks = (p.chunks + kChunkBlock - 1) / kChunkBlock;
  // Tables: both threads build halves of the blocks, then both sweep tile pairs.
  std::atomic<int64_t> next_blk{0}, done{0}, next{0};
  const int64_t pairs = (p.tiles + g_nt - 1) / g_nt;
  cpu::parallel_for(2, 2, [&](int64_t, int64_t) {
    for (;;) {
      const int64_t b = next_blk.fetch_add(1);
      if (b >= blocks) break;
      const int64_t c0 = b * kChunkBlock, nc = std::min<int64_t>(kChunkBlock, p.chunks - c0);
      build_tables(x + 5 * c0, p.k - 5 * c0, nc, s.tbl + c0 * 128, s.steps + b);
      done.fetch_add(1);
    }
    while (done.load() < blocks) _mm_pause();
    for (;;) {
      const int64_t it = next.fetch_add(1);
      if (it >= pairs) break;
      if (g_nt == 4 && 4 * it + 4 <= p.tiles)
        gemv_tiles<4>(p, s.tbl, s.steps, scale, 4 * it, y);
      else if (g_nt == 2 && 2 * it + 2 <= p.tiles)
        gemv_tiles<2>(p, s.tbl, s.steps, scale, 2 * it, y);
      else
        for (int64_t t = g_nt * it; t < std::min(p.tiles, g_nt * it + g_nt); ++t) gemv_tiles<1>(p, s.tbl, s.steps, scale, t, y);
    }
  });
}

}  // namespace

int main(int argc, char** argv) {
  const int64_t n = argc > 1 ? std::atoll(argv[1]) : 4096, k = argc > 2 ? std::atoll(argv[2]) : 4096;
  const int rounds = argc > 3 ? std::atoi(argv[3]) : 30;
  init_digits();
  init_packed_digits();
  if (const char* e = std::getenv("PF")) g_pf = std::atoll(e);
  if (const char* e = std::getenv("TPF")) g_tpf = std::atoll(e);
  if (const char* e = std::getenv("NT")) g_nt = std::atoll(e);
  std::mt19937_64 rng(7);
  std::vector<int8_t> d(size_t(n * k));
  for (auto& v : d) v = int8_t(int(rng() % 3) - 1);
  std::vector<float> x(static_cast<size_t>(k)), scale(static_cast<size_t>(n));
  std::normal_distribution<float> nd(0.0f, 1.0f);
  for (auto& v : x) v = nd(rng);
  for (auto& v : scale) v = 0.05f + 0.001f * float(rng() % 100);
  Packed p = pack(d, n, k);
  Scratch s{static_cast<uint8_t*>(alloc(size_t(p.chunks * 128))),
            static_cast<float*>(alloc(size_t((p.chunks + kChunkBlock - 1) / kChunkBlock) * 4))};
  std::vector<float> y(static_cast<size_t>(n));
  gemv(p, x.data(), scale.data(), y.data(), s);
  double err = 0, ref2 = 0;
  for (int64_t r = 0; r < n; ++r) {
    double acc = 0;
    for (int64_t c = 0; c < k; ++c) acc += double(d[size_t(r * k + c)]) * x[size_t(c)];
    acc *= scale[size_t(r)];
    err += (acc - y[size_t(r)]) * (acc - y[size_t(r)]);
    ref2 += acc * acc;
  }
  std::printf("n=%lld k=%lld: five trits a byte %.2f MB, rel L2 error %.4f\n", (long long)n, (long long)k,
              double(p.tiles * p.chunks * kRows) / 1e6, std::sqrt(err / ref2));

  // cpu.lut on the same digits in the two-plane ternary format.
  const OpSpec& sp = *Registry::global().spec("qgemm");
  const Implementation* impl = Registry::global().impl("qgemm", "cpu.lut");
  char desc[160];
  std::snprintf(desc, sizeof desc, "qgemm m=1 n=%lld k=%lld format=ternary group=channel", (long long)n, (long long)k);
  const Problem prob = *sp.parse(desc);
  std::vector<TensorView> views;
  std::vector<std::pair<const void*, size_t>> lut_live, t5_live = {{p.w, size_t(p.tiles * p.chunks * kRows)},
                                                                   {x.data(), x.size() * 4},
                                                                   {scale.data(), scale.size() * 4},
                                                                   {y.data(), y.size() * 4}};
  for (const auto& td : sp.tensors(prob)) {
    int64_t count = 1;
    for (auto v : td.shape) count *= v;
    const size_t bytes = dtype_storage_bytes(td.dtype, count);
    void* ptr = alloc(bytes);
    for (int64_t i = 0; i < count; ++i) {
      if (td.dtype == DType::u8)
        static_cast<uint8_t*>(ptr)[i] = uint8_t(rng());
      else
        store_from_double(td.dtype, ptr, i, 0.1 * double(int(rng() % 2001) - 1000) / 1000.0 + 0.2);
    }
    lut_live.push_back({ptr, bytes});
    views.push_back({ptr, td.dtype, td.shape, contiguous_strides(td.shape)});
  }
  std::vector<double> tl, t5, rd;
  for (int r = 0; r < rounds + 3; ++r) {
    flush(lut_live);
    auto a = std::chrono::steady_clock::now();
    if (!impl->run(prob, {}, views, RunContext{nullptr, 0}).ok()) return std::puts("cpu.lut failed"), 1;
    auto b = std::chrono::steady_clock::now();
    if (r >= 3) tl.push_back(std::chrono::duration<double>(b - a).count());
    flush(t5_live);
    a = std::chrono::steady_clock::now();
    gemv(p, x.data(), scale.data(), y.data(), s);
    b = std::chrono::steady_clock::now();
    if (r >= 3) t5.push_back(std::chrono::duration<double>(b - a).count());
    flush(t5_live);
    a = std::chrono::steady_clock::now();
    read_stream(p.w, size_t(p.tiles * p.chunks * kRows));
    b = std::chrono::steady_clock::now();
    if (r >= 3) rd.push_back(std::chrono::duration<double>(b - a).count());
  }
  // Where the time goes: the same kernel hot (weights left in cache), and the tables alone.
  std::vector<double> hot, tables;
  const int64_t blocks = (p.chunks + kChunkBlock - 1) / kChunkBlock;
  for (int r = 0; r < rounds + 3; ++r) {
    auto a = std::chrono::steady_clock::now();
    gemv(p, x.data(), scale.data(), y.data(), s);
    auto b = std::chrono::steady_clock::now();
    if (r >= 3) hot.push_back(std::chrono::duration<double>(b - a).count());
    a = std::chrono::steady_clock::now();
    for (int64_t bl = 0; bl < blocks; ++bl) {
      const int64_t c0 = bl * kChunkBlock, nc = std::min<int64_t>(kChunkBlock, p.chunks - c0);
      build_tables(x.data() + 5 * c0, p.k - 5 * c0, nc, s.tbl + c0 * 128, s.steps + bl);
    }
    b = std::chrono::steady_clock::now();
    if (r >= 3) tables.push_back(std::chrono::duration<double>(b - a).count());
  }
  std::vector<double> ratio;
  for (size_t i = 0; i < tl.size(); ++i) ratio.push_back(tl[i] / t5[i]);
  auto med = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  };
  std::printf("cold, 2 threads, %d interleaved rounds: cpu.lut ternary %.1f us, five trits %.1f us; per-round ratio median %.3fx\n",
              rounds, med(tl) * 1e6, med(t5) * 1e6, med(ratio));
  std::printf("plain read of the five-trit bytes, cold: %.1f us (%.1f GB/s)\n", med(rd) * 1e6,
              double(p.tiles * p.chunks * kRows) / med(rd) / 1e9);
  std::printf("five trits hot, 2 threads: %.1f us; all tables on one thread: %.1f us\n", med(hot) * 1e6, med(tables) * 1e6);
}
