// gemm "cpu.simd" for small M (decode shapes): B is streamed from memory once, never packed.
//
// With a few rows of A, each element of B takes part in only m multiply-adds, so the time goes to
// reading B, and packing it (cpu.cpp's Goto/BLIS path) reads it twice and writes it once. Here B
// is read in place, in its own layout, by kernels that keep the whole block of C they work on in
// registers:
//  - b=nk (B is [N,K]): C[i,j] is the dot product of A row i and B row j. A tile of up to kNkMaxR
//    rows of A times 4 rows of B walks K with R x 4 vector accumulators, so four contiguous streams
//    of B are in flight, each vector of B feeding R multiply-adds; the lanes are summed at the end.
//  - b=kn (B is [K,N]): rows of A scale rows of B into C. A strip of 2 vectors of columns times up
//    to kKnMaxR rows of C stays in registers over kKnKc rows of B, then the next strip, so those
//    kKnKc rows are read side by side, each front to back; C is loaded and stored once per pass.
// Rows of A beyond the register budget form balanced groups that read the same part of B again
// from L1 or L2. Threads split N, so each streams a disjoint part of B. bf16 A is widened to f32
// once per call; bf16 B is widened as it is loaded. The epilogue is cpu.simd's (cpu_epilogue).
// cpu.cpp decides when to come here (small_m_streams_b in cpu_small_m.hpp, and the stream_b tunable).

// ---- Shared, target-independent part (compiled once) ---------------------------------------------
#ifndef TESSEL_OPS_GEMM_CPU_SMALL_M_SHARED_
#define TESSEL_OPS_GEMM_CPU_SMALL_M_SHARED_

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <utility>

#include "cpu_scratch.hpp"
#include "cpu_small_m.hpp"
#include "gemm.hpp"
#include "tessel/cpu/parallel.hpp"

#endif  // TESSEL_OPS_GEMM_CPU_SMALL_M_SHARED_

// ---- Per-target part (compiled once for every Highway target) -------------------------------------
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "ops/gemm/cpu_small_m.cpp"
#include "hwy/foreach_target.h"  // IWYU pragma: keep
#include "hwy/highway.h"
#include "tessel/cpu/simd_io-inl.h"

HWY_BEFORE_NAMESPACE();
namespace tessel::gemm::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// DF, VF, kLanes and LoadAsF32 (f32 or bf16 memory to f32 vectors) come from simd_io-inl.h.
using namespace cpu::HWY_NAMESPACE;

// Register budgets: with 32 vector registers (AVX-512), nk holds 6 x 4 accumulators plus 4 B
// vectors and one of A, kn 12 x 2 accumulators plus 2 of B and a broadcast; with 16 (AVX2, SSE4),
// 2 x 4 + 5 and 6 x 2 + 3.
#if HWY_ARCH_X86 && HWY_TARGET <= HWY_AVX3
constexpr int kNkMaxR = 6;
constexpr int kKnMaxR = 12;
#else
constexpr int kNkMaxR = 2;
constexpr int kKnMaxR = 6;
#endif
constexpr int kNkRows = 4;                // rows of B per nk tile
constexpr int kKnNV = 2;                  // vectors per kn strip
constexpr int64_t kKnW = kKnNV * kLanes;  // columns per kn strip
// Rows of B per kn pass. Rows n floats apart often share L1 sets (n a multiple of 1024), so a
// strip of many rows does not stay in L1 for the next row group: m=16 n=k=4096 takes 4.6 ms at
// 16 rows, 4.4-4.9 at 32, 8.3 at 64, 8.8 at 128.
constexpr int64_t kKnKc = 16;
constexpr int64_t kBlockCols = 1024;  // columns of C per block: the epilogue's unit, in L2

// ---- b=nk: dot products ------------------------------------------------------------------------------

// C[i, q] = A row i . B row q for R rows of A (lda apart) and the kNkRows rows of B at b[q] (k long);
// the first `cols` of the kNkRows results per row go to c (rows ldc apart). A K tail shorter than a
// vector is copied into zero-padded vectors on the stack, so nothing past a row is read.
template <int R, class TB>
HWY_NOINLINE void NkTile(int64_t k, const float* HWY_RESTRICT a, int64_t lda, const std::array<const TB*, kNkRows>& b,
                         float* HWY_RESTRICT c, int64_t ldc, int64_t cols) {
  const DF d;
  VF acc[R][kNkRows];
  HWY_UNROLL(6)
  for (int i = 0; i < R; ++i)
    for (int q = 0; q < kNkRows; ++q) acc[i][q] = hn::Zero(d);
  auto step = [&](const float* ap, int64_t lda_step, const std::array<const TB*, kNkRows>& bp, int64_t p) {
    VF bv[kNkRows];
    for (int q = 0; q < kNkRows; ++q) bv[q] = LoadAsF32(d, bp[q] + p);
    HWY_UNROLL(6)
    for (int i = 0; i < R; ++i) {
      const VF av = hn::LoadU(d, ap + i * lda_step + p);
      for (int q = 0; q < kNkRows; ++q) acc[i][q] = hn::MulAdd(av, bv[q], acc[i][q]);
    }
  };
  int64_t p = 0;
  for (; p + kLanes <= k; p += kLanes) step(a, lda, b, p);
  if (p < k) {
    HWY_ALIGN float at[R * kLanes] = {};
    TB bt[kNkRows][kLanes] = {};
    for (int i = 0; i < R; ++i) std::copy(a + i * lda + p, a + i * lda + k, at + i * kLanes);
    std::array<const TB*, kNkRows> bp;
    for (int q = 0; q < kNkRows; ++q) {
      std::copy(b[size_t(q)] + p, b[size_t(q)] + k, bt[q]);
      bp[size_t(q)] = bt[q];
    }
    step(at, kLanes, bp, 0);
  }
  for (int i = 0; i < R; ++i)
    for (int64_t q = 0; q < cols; ++q) c[i * ldc + q] = hn::GetLane(hn::SumOfLanes(d, acc[i][size_t(q)]));
}

template <class TB>
using NkFn = void (*)(int64_t, const float*, int64_t, const std::array<const TB*, kNkRows>&, float*, int64_t, int64_t);
template <class TB, size_t... I>
constexpr auto MakeNkTable(std::index_sequence<I...>) {
  return std::array<NkFn<TB>, sizeof...(I)>{&NkTile<int(I) + 1, TB>...};
}

// ---- b=kn: rows of B scaled into C -------------------------------------------------------------------

// C[0:R, 0:kKnW] (+)= A[0:R, 0:kc] . B[0:kc, 0:kKnW]: A rows lda apart, B rows ldb apart, C rows
// ldc apart, all full width (the caller pads column tails).
template <int R, class TB>
HWY_NOINLINE void KnStrip(int64_t kc, const float* HWY_RESTRICT a, int64_t lda, const TB* HWY_RESTRICT b,
                          int64_t ldb, float* HWY_RESTRICT c, int64_t ldc, bool accumulate) {
  const DF d;
  VF acc[R][kKnNV];
  HWY_UNROLL(16)
  for (int i = 0; i < R; ++i)
    for (int v = 0; v < kKnNV; ++v) acc[i][v] = accumulate ? hn::LoadU(d, c + i * ldc + v * kLanes) : hn::Zero(d);
  for (int64_t p = 0; p < kc; ++p) {
    VF bv[kKnNV];
    for (int v = 0; v < kKnNV; ++v) bv[v] = LoadAsF32(d, b + p * ldb + v * kLanes);
    HWY_UNROLL(16)
    for (int i = 0; i < R; ++i) {
      const VF av = hn::Set(d, a[i * lda + p]);
      for (int v = 0; v < kKnNV; ++v) acc[i][v] = hn::MulAdd(av, bv[v], acc[i][v]);
    }
  }
  HWY_UNROLL(16)
  for (int i = 0; i < R; ++i)
    for (int v = 0; v < kKnNV; ++v) hn::StoreU(acc[i][v], d, c + i * ldc + v * kLanes);
}

template <class TB>
using KnFn = void (*)(int64_t, const float*, int64_t, const TB*, int64_t, float*, int64_t, bool);
template <class TB, size_t... I>
constexpr auto MakeKnTable(std::index_sequence<I...>) {
  return std::array<KnFn<TB>, sizeof...(I)>{&KnStrip<int(I) + 1, TB>...};
}

// ---- Driver ------------------------------------------------------------------------------------------

// Splits m rows into the fewest groups of at most max_r rows, as even as possible (16 rows with a
// budget of 12 become 8 + 8, not 12 + 4, so no group wastes most of a pass over B).
struct RowGroups {
  int64_t count, base, extra;  // `extra` groups of base + 1 rows, then groups of base rows
  RowGroups(int64_t m, int64_t max_r)
      : count((m + max_r - 1) / max_r), base(m / count), extra(m % count) {}
  int64_t begin(int64_t g) const { return g * base + std::min(g, extra); }
  int64_t size(int64_t g) const { return base + (g < extra ? 1 : 0); }
};

// Columns [j0, j0 + cols) of the f32 accumulator block acc (rows ld apart) for all m rows, b=nk.
template <class TB>
void NkBlock(const Shape& s, const float* a, const TB* b, int64_t j0, int64_t cols, float* acc, int64_t ld) {
  static constexpr auto kTable = MakeNkTable<TB>(std::make_index_sequence<kNkMaxR>());
  const RowGroups groups(s.m, kNkMaxR);
  for (int64_t j = 0; j < cols; j += kNkRows) {
    const int64_t w = std::min<int64_t>(kNkRows, cols - j);
    // Missing rows of a tail repeat the last real one: computed, never stored.
    std::array<const TB*, kNkRows> rows;
    for (int64_t q = 0; q < kNkRows; ++q) rows[size_t(q)] = b + (j0 + j + std::min(q, w - 1)) * s.k;
    for (int64_t g = 0; g < groups.count; ++g) {
      const int64_t i0 = groups.begin(g);
      kTable[size_t(groups.size(g) - 1)](s.k, a + i0 * s.k, s.k, rows, acc + i0 * ld + j, ld, w);
    }
  }
}

// The same for b=kn: kKnKc rows of B at a time, across all strips of the block, then the next kKnKc.
template <class TB>
void KnBlock(const Shape& s, const float* a, const TB* b, int64_t j0, int64_t cols, float* acc, int64_t ld) {
  static constexpr auto kTable = MakeKnTable<TB>(std::make_index_sequence<kKnMaxR>());
  static constexpr auto kTailTable = MakeKnTable<float>(std::make_index_sequence<kKnMaxR>());
  const RowGroups groups(s.m, kKnMaxR);
  for (int64_t p0 = 0; p0 < s.k; p0 += kKnKc) {
    const int64_t kb = std::min(kKnKc, s.k - p0);
    const bool accumulate = p0 > 0;
    for (int64_t j = 0; j < cols; j += kKnW) {
      const int64_t w = std::min(kKnW, cols - j);
      const TB* bp = b + p0 * s.n + j0 + j;
      if (w == kKnW) {
        for (int64_t g = 0; g < groups.count; ++g) {
          const int64_t i0 = groups.begin(g);
          kTable[size_t(groups.size(g) - 1)](kb, a + i0 * s.k + p0, s.k, bp, s.n, acc + i0 * ld + j, ld, accumulate);
        }
        continue;
      }
      // The column tail goes through full-width strips of B and C on the stack, so nothing past
      // either is read or written.
      HWY_ALIGN float bt[kKnKc * kKnW] = {};
      HWY_ALIGN float ct[kKnMaxR * kKnW] = {};
      for (int64_t p = 0; p < kb; ++p)
        for (int64_t jj = 0; jj < w; ++jj) bt[p * kKnW + jj] = cpu::HWY_NAMESPACE::ScalarToF32(bp[p * s.n + jj]);
      for (int64_t g = 0; g < groups.count; ++g) {
        const int64_t i0 = groups.begin(g), r = groups.size(g);
        float* cg = acc + i0 * ld + j;
        for (int64_t i = 0; i < r; ++i)
          for (int64_t jj = 0; jj < w; ++jj) ct[i * kKnW + jj] = accumulate ? cg[i * ld + jj] : 0.0f;
        kTailTable[size_t(r - 1)](kb, a + i0 * s.k + p0, s.k, bt, kKnW, ct, kKnW, true);
        for (int64_t i = 0; i < r; ++i) std::copy(ct + i * kKnW, ct + i * kKnW + w, cg + i * ld);
      }
    }
  }
}

template <class TB, class TOut>
void SmallMTyped(const Shape& s, const float* a, const TB* b, const TOut* bias, const TOut* residual, TOut* c,
                 int threads) {
  // f32 C is its own accumulator; bf16 C gets an f32 block per thread.
  constexpr bool kInPlace = sizeof(TOut) == 4;
  const bool epilogue = bias || residual || s.act != Activation::none || !kInPlace;
  // Threads take whole units of N: a tile of B rows (nk) or a strip of columns (kn).
  const int64_t unit = s.b == BLayout::nk ? kNkRows : kKnW;
  const int64_t units = (s.n + unit - 1) / unit;
  // Below about a million multiply-adds per thread, waking threads costs more than it saves.
  const double macs = double(s.m) * double(s.n) * double(s.k);
  threads = threads > 0 ? threads : cpu::hardware_threads();
  threads = int(std::max<double>(1, std::min({double(threads), macs / 1e6, double(units)})));
  cpu::parallel_for(units, threads, [&](int64_t u0, int64_t u1) {
    const int64_t n0 = u0 * unit, n1 = std::min(s.n, u1 * unit);
    float* block_acc = kInPlace ? nullptr : detail::scratch<float>(detail::ScratchSlot::small_m_accum, size_t(s.m * kBlockCols));
    for (int64_t j0 = n0; j0 < n1; j0 += kBlockCols) {
      const int64_t cols = std::min(kBlockCols, n1 - j0);
      float* acc;
      int64_t ld;
      if constexpr (kInPlace) {
        acc = reinterpret_cast<float*>(c) + j0;
        ld = s.n;
      } else {
        acc = block_acc;
        ld = kBlockCols;
      }
      if (s.b == BLayout::nk) NkBlock(s, a, b, j0, cols, acc, ld);
      else KnBlock(s, a, b, j0, cols, acc, ld);
      if (epilogue)
        cpu_epilogue(s, acc, ld, s.m, cols, bias ? bias + j0 : nullptr, residual ? residual + j0 : nullptr, c + j0, s.n);
    }
  });
}

void GemmSmallM(const Shape& s, const void* a, const void* b, const void* bias, const void* residual, void* c,
                int threads) {
  if (s.in == DType::f32) {
    return SmallMTyped(s, static_cast<const float*>(a), static_cast<const float*>(b), static_cast<const float*>(bias),
                       static_cast<const float*>(residual), static_cast<float*>(c), threads);
  }
  // bf16 A is widened once (m x k, small next to B), so the kernels read f32 A.
  float* a32 = detail::scratch<float>(detail::ScratchSlot::small_m_a, size_t(s.m * s.k));
  const auto* a16 = static_cast<const uint16_t*>(a);
  for (int64_t i = 0; i < s.m * s.k; ++i) a32[i] = ScalarToF32(a16[i]);
  const auto* b16 = static_cast<const uint16_t*>(b);
  if (s.out == DType::f32)
    return SmallMTyped(s, a32, b16, static_cast<const float*>(bias), static_cast<const float*>(residual),
                       static_cast<float*>(c), threads);
  SmallMTyped(s, a32, b16, static_cast<const uint16_t*>(bias), static_cast<const uint16_t*>(residual),
              static_cast<uint16_t*>(c), threads);
}

}  // namespace tessel::gemm::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

// ---- Entry point (compiled once) ------------------------------------------------------------------
#if HWY_ONCE
namespace tessel::gemm {

HWY_EXPORT(GemmSmallM);

// Declared in cpu_small_m.hpp; cpu.cpp decides when to take this path.
void gemm_small_m(const Shape& s, const void* a, const void* b, const void* bias, const void* residual, void* c,
                  int threads) {
  HWY_DYNAMIC_DISPATCH(GemmSmallM)(s, a, b, bias, residual, c, threads);
}

}  // namespace tessel::gemm
#endif  // HWY_ONCE
