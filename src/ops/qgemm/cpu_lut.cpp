// qgemm "cpu.lut": T-MAC style table lookup for 1..4-bit and ternary weights, no multiplications.
//
// The idea: with weights in bit planes, y = sum_b c_b * sum_k x_k * bit_b(k) (+ w0 * sum x), and the
// inner sum over 4 consecutive k takes one of only 16 values, one per 4-bit pattern of plane bits.
// So for every 4 activations (a quad) we precompute the 16 partial sums once per row of X, round
// them to int8 (one step per 32 activations), and then every 4 weights of every plane cost one byte
// shuffle (pshufb: 16 lookups per 128-bit lane) instead of 4 multiply-adds.
//
// The planar layout (docs/formats.md) is built for exactly this loop: a byte holds one plane of 8
// weights of one row, so its low nibble indexes the table of quad 2o and its high nibble that of
// quad 2o+1; each 16-byte lane holds 8 rows x 2 planes, so one pmaddubsw applies both planes'
// weights c_b and leaves one int16 per row, in row order. Tables are stored with a +128 offset
// (pmaddubsw multiplies unsigned by signed bytes); the offset is a per-block constant, so each
// block's int16 sums start at minus it. Per 32 activations the true sum fits an int16:
// |sum| <= 8 quads * 127 * sum|c_b| <= 15240, and int16 adds wrap, so a partial sum may overflow
// harmlessly (one pmaddubsw pair is at most 255 * 12, far from saturating).
// On AVX3_DL the lookup is vpermb, which needs no nibble mask (pshufb does): 7 instead of 9 vector
// instructions per 64 bytes of weights.
//
// Loop order per thread: one 64-row tile at a time (a contiguous stretch of W), and within a
// tile all of K for a block of rows of X whose tables stay in L1/L2.
//
// ternary5 (five weights a byte, docs/formats.md) takes its own tile kernels. On AVX3_DL a byte's
// magnitude indexes a 128-entry table of the signed sums of its run's five activations (vpermi2b,
// 64 rows a lookup) and its sign bit negates the lookup. Below it (AVX3, AVX2, SSE4) the byte is
// split into two indexes of 16-entry tables, two and three weights (pshufb), whose lookups add.
// Fewer bytes than ternary's two planes (1.6 bits a weight against 2) is what it is for: the GEMV
// streams W at what two cores can read.

// ---- Shared, target-independent part (compiled once) ---------------------------------------------
#ifndef TESSEL_OPS_QGEMM_CPU_LUT_SHARED_
#define TESSEL_OPS_QGEMM_CPU_LUT_SHARED_

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>

#include "cpu_common.hpp"
#include "tessel/cpu/parallel.hpp"
#include "tessel/runtime/registry.hpp"

namespace tessel::qgemm {

inline constexpr int64_t kQuadsPerBlock = kLutBlock / 4;   // 8 tables per table scale
inline constexpr int64_t kOctetsPerBlock = kLutBlock / 8;  // 4 planar bytes per row and plane

// What the tile kernels need besides the tensors: plane weights and per-block constants.
struct LutConsts {
  int pairs = 0;
  bool odd = false;
  int8_t c[8] = {};
  int32_t quad_offset = 0;  // 128 * sum_b c_b: what the table offset adds per quad
  int w0 = 0;               // int1: -1 (applied through the activation sums)
  bool zeros = false;       // uint: subtract z * sum x per group
  int64_t blocks = 0, blocks_per_group = 0;
  // ternary5: runs (bytes) per row and per full group; `blocks` counts table steps per row of X.
  int64_t row_runs = 0, runs_per_group = 0;
  // 1- or 2-bit weights repacked into row lanes (LutRowLanesTile): RowLaneBlockBytes per block of
  // 32 weights; tile t's blocks start at row_lanes + t * row_lanes_tile_stride (0 where each item
  // repacks its own tile into one buffer: TileFns::repack). Null when the planar kernels run.
  const uint8_t* row_lanes = nullptr;
  int64_t row_lanes_tile_stride = 0;
};

// ternary5: runs of five per table step. Each run's lookup errs by at most half a step, and a step
// serves 32 runs (the spec's tolerance() derives the bound from this); the int16 sums of 32 biased
// lookups stay below 255 * 32.
inline constexpr int64_t kTritRunsPerBlock = 32;

// Tables and sums for a chunk of rows of X: row m's tables start at tbl + m * tbl_stride.
struct LutRows {
  const uint8_t* tbl = nullptr;
  int64_t tbl_stride = 0;
  const float* tscale = nullptr;  // [rows][blocks]: table steps
  const float* bsum = nullptr;    // [rows][blocks]: sum of the block's activations
  // [rows][groups]: sum of the group's activations (bsum summed in block order, as CloseGroup does),
  // where the tables' build fills it (row lanes, groups of 1, 2, 4 or 8 blocks; else null).
  const float* gsum = nullptr;
};

}  // namespace tessel::qgemm

#endif  // TESSEL_OPS_QGEMM_CPU_LUT_SHARED_

// ---- Per-target part (compiled once for every Highway target) -------------------------------------
// AVX3_DL (AVX-512 with VBMI, VNNI, ...) is opt-in in Highway 1.0; this file wants it for vpermb,
// which looks a nibble up with no mask (see LookupNibble).
#ifndef HWY_WANT_AVX3_DL
#define HWY_WANT_AVX3_DL
#endif
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "ops/qgemm/cpu_lut.cpp"
#include "hwy/foreach_target.h"  // IWYU pragma: keep
#include "hwy/cache_control.h"
#include "hwy/highway.h"
#include "ops/qgemm/simd-inl.h"

HWY_BEFORE_NAMESPACE();
namespace tessel::qgemm::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

using DF = hn::ScalableTag<float>;
using DI32F = hn::RebindToSigned<DF>;
using DU8F = hn::Rebind<uint8_t, DF>;

// ---- Tables ------------------------------------------------------------------------------------------

// kBit[t][p] = bit t of p: entry p of a quad's table is sum_t kBit[t][p] * x_t.
HWY_ALIGN constexpr float kBit[4][16] = {
    {0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1},
    {0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 1, 1},
    {0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, 1},
    {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1},
};

// Tables for activations xf[0, 4*quads) (any alignment), starting on a block: 16 bytes per quad,
// each the rounded partial sum / step + 128, and per block of 8 quads its step and the sum of its
// x. xf holds whole blocks (zero past k), so every block is computed in full; only its first
// `quads` tables are stored.
// With `row_lanes` a block's 128 bytes of tables are stored lo tables first (its four octets' quads
// 2o), then hi tables (quads 2o + 1), and every block whole (quads past k hold zero sums), as
// LutRowLanesTile looks them up.
void BuildTables(const float* HWY_RESTRICT xf, int64_t quads, uint8_t* HWY_RESTRICT tbl, float* HWY_RESTRICT tscale,
                 float* HWY_RESTRICT bsum, bool row_lanes = false) {
  const DF df;
  const DI32F di;
  const DU8F du8;
  constexpr int64_t L = int64_t(hn::MaxLanes(DF()));
  HWY_ALIGN float t[kQuadsPerBlock * 16];
  const auto off = hn::Set(di, 128);
  for (int64_t q0 = 0, blk = 0; q0 < quads; q0 += kQuadsPerBlock, ++blk) {
    const float* HWY_RESTRICT xb = xf + 4 * q0;
    auto vmax = hn::Zero(df), vsum = hn::Zero(df);
    for (int64_t i = 0; i < kLutBlock; i += L) vsum = hn::Add(vsum, hn::LoadU(df, xb + i));
    for (int64_t q = 0; q < kQuadsPerBlock; ++q) {
      const float* x = xb + 4 * q;
      const auto x0 = hn::Set(df, x[0]), x1 = hn::Set(df, x[1]), x2 = hn::Set(df, x[2]), x3 = hn::Set(df, x[3]);
      for (int64_t e = 0; e < 16; e += L) {
        auto v = hn::Mul(x0, hn::Load(df, kBit[0] + e));
        v = hn::MulAdd(x1, hn::Load(df, kBit[1] + e), v);
        v = hn::MulAdd(x2, hn::Load(df, kBit[2] + e), v);
        v = hn::MulAdd(x3, hn::Load(df, kBit[3] + e), v);
        hn::Store(v, df, t + q * 16 + e);
        vmax = hn::Max(vmax, hn::Abs(v));
      }
    }
    const float amax = hn::GetLane(hn::MaxOfLanes(df, vmax));
    const float sum = hn::GetLane(hn::SumOfLanes(df, vsum));
    tscale[blk] = amax / 127.0f;
    bsum[blk] = sum;
    // Tables cannot hold an infinity or NaN; such a block makes its rows' outputs NaN, never a
    // finite wrong value.
    if (!std::isfinite(sum)) tscale[blk] = std::numeric_limits<float>::quiet_NaN();
    const auto inv = hn::Set(df, amax > 0 ? 127.0f / amax : 0.0f);
    const int64_t nq = row_lanes ? kQuadsPerBlock : std::min(kQuadsPerBlock, quads - q0);
    for (int64_t q = 0; q < nq; ++q) {
      uint8_t* HWY_RESTRICT dst = row_lanes ? tbl + q0 * 16 + (q % 2) * 64 + (q / 2) * 16 : tbl + (q0 + q) * 16;
      for (int64_t e = 0; e < 16; e += L) {
        const auto i = hn::Add(hn::NearestInt(hn::Mul(hn::Load(df, t + q * 16 + e), inv)), off);
        hn::StoreU(hn::DemoteTo(du8, i), du8, dst + e);
      }
    }
  }
}

// Applies a finished group to the output accumulators: y += s * (g + w0 * sum x - z * sum x).
template <int MB>
HWY_INLINE void CloseGroup(const CpuArgs& a, const LutConsts& lc, const LutRows& rows, int64_t tile, int64_t g,
                           float (*gacc)[quant::kTileRows], float (*yacc)[quant::kTileRows]) {
  const DF df;
  constexpr int64_t L = int64_t(hn::MaxLanes(DF()));
  HWY_ALIGN float s[quant::kTileRows], z[quant::kTileRows];
  LoadTileGroup(df, a, a.scales, tile, g, s);
  if (lc.zeros) LoadTileGroup(df, a, a.zeros, tile, g, z);
  for (int m = 0; m < MB; ++m) {
    // sum x over the group, from its blocks' sums (only int1 and uint need it).
    float xs = 0;
    if (lc.w0 != 0 || lc.zeros) {
      const float* bs = rows.bsum + m * lc.blocks;
      for (int64_t b = g * lc.blocks_per_group; b < std::min(lc.blocks, (g + 1) * lc.blocks_per_group); ++b) xs += bs[b];
    }
    const auto vxs = hn::Set(df, xs), vw0 = hn::Set(df, float(lc.w0) * xs);
    for (int64_t r = 0; r < quant::kTileRows; r += L) {
      auto v = hn::Load(df, gacc[m] + r);
      if (lc.w0 != 0) v = hn::Add(v, vw0);
      if (lc.zeros) v = hn::NegMulAdd(hn::Load(df, z + r), vxs, v);
      hn::Store(hn::MulAdd(hn::Load(df, s + r), v, hn::Load(df, yacc[m] + r)), df, yacc[m] + r);
      hn::Store(hn::Zero(df), df, gacc[m] + r);
    }
  }
}

template <int MB>
HWY_INLINE void StoreRows(const CpuArgs& a, int64_t tile, int64_t m0, float (*yacc)[quant::kTileRows]) {
  const int64_t n0 = tile * quant::kTileRows, valid = std::min(quant::kTileRows, a.s.n - n0);
  for (int m = 0; m < MB; ++m) std::memcpy(a.y + (m0 + m) * a.s.n + n0, yacc[m], size_t(valid) * sizeof(float));
}

#if HWY_TARGET != HWY_SCALAR

using D8 = hn::ScalableTag<uint8_t>;
using DI8 = hn::ScalableTag<int8_t>;
using D16 = hn::ScalableTag<int16_t>;
using DI32 = hn::Repartition<int32_t, D16>;
using DF16 = hn::Repartition<float, D16>;
using V8 = hn::Vec<D8>;
using VI8 = hn::Vec<DI8>;
using V16 = hn::Vec<D16>;

constexpr int64_t kV = int64_t(hn::MaxLanes(D8()));  // bytes per vector: 16, 32 or 64
constexpr int kAcc = int(128 / kV);                  // int16 vectors per 64 rows
// Rows of X per pass over a tile: their tables and accumulators live in registers.
constexpr int kMB = kV >= 64 ? 4 : kV >= 32 ? 2 : 1;
// How far ahead of the tile stream to prefetch (into L2): about one DRAM latency's worth of bytes
// at one core's share of the bandwidth. Measured on the 2-core Xeon VM (2-bit, n=4096 k=14336, cold
// W): one thread 2 KiB 11.5, 4 KiB 12.9, 8 KiB 10.9 GB/s (no prefetch 8.7, L1 prefetch worse); two
// threads 2 KiB 21.2, 4 KiB 21.4, 8 KiB 19.5, 16 KiB 19.8 GB/s (probed copy bandwidth 24.7).
// Again with the vpermb kernel (bench/results/cpu/lut-gemv-probe.cpp, probe ~40): two threads 512 B 15.7,
// 1 KiB 18.5, 2 KiB 20.4-21.5, 4 KiB 20.5-20.9 GB/s; one thread 4 KiB 12.4, 2 KiB 11.9-12.5; a
// T0 prefetch at 2 KiB was worse (20.6). A GEMV row reads two tiles at once (kGemvTiles), so at
// the same distance twice as many lines are ahead per core: there 3 KiB per stream is 0-4% faster
// than 4 KiB (2 KiB: 1-2%, 6 KiB: 2-4% slower), while the one-stream path of m = 8 stays at 4 KiB
// (3 KiB read 2.5-3.6% slower at k = 14336, 3 and 4 bits; docs/formats.md). The ternary5 GEMV
// sweeps four streams (kTrit5GemvTiles): there 1 KiB each, 4 KiB ahead in all, ran 0.97-1.08x the
// speed of 3 KiB in 12 in-process pairs at k = 4096 and 14336, 11 of them faster (1.5 KiB
// 0.98-1.04x, 0 and 6 KiB slower; session 19, bench/results/cpu/ternary5-gemv-breakdown-2026-11-30-session19.txt).
template <int NT>
constexpr int64_t kPrefetchBytes = NT == 1 ? 4096 : NT == 2 ? 3072 : 1024;

// The two 4-bit indexes of every byte of v, for LookupNibble: the low nibble and the high one.
struct Nibbles {
  V8 lo, hi;
};
HWY_INLINE Nibbles SplitNibbles(V8 v) {
#if HWY_TARGET == HWY_AVX3_DL
  // vpermb reads only bits 0..5 of an index, and our tables repeat every 16 bytes, so the bits
  // above the nibble select the same entry: no mask is needed, only the shift.
  return {v, V8{_mm512_srli_epi16(v.raw, 4)}};
#else
  // pshufb zeroes a byte whose index has bit 7 set, so both nibbles are masked.
  const D8 d8;
  return {hn::And(v, hn::Set(d8, 0x0f)), hn::ShiftRight<4>(v)};
#endif
}

// table[index] per byte, with the same 16-entry table in every 128-bit lane of `table`.
HWY_INLINE V8 LookupNibble(V8 table, V8 index) {
#if HWY_TARGET == HWY_AVX3_DL
  return V8{_mm512_permutexvar_epi8(index.raw, table.raw)};
#else
  return hn::TableLookupBytes(table, index);
#endif
}

// All of K for rows m0 .. m0+MB-1 of X against NT adjacent 64-row tiles (tile .. tile+NT-1), P
// plane pairs plus one odd plane. The NT tiles are read side by side, octet by octet, and share
// each octet's tables: two concurrent streams per core keep more lines in flight than one, which
// matters where a single row of X leaves little arithmetic to hide the memory behind (see
// kGemvTiles).
template <int P, bool ODD, int MB, int NT>
HWY_NOINLINE void LutTile(const CpuArgs& a, const LutConsts& lc, const LutRows& rows, int64_t tile, int64_t m0) {
  const D16 d16;
  const DI32 di32;
  const DF16 df;
  const hn::Half<D16> dh16;
  constexpr int B = 2 * P + (ODD ? 1 : 0);
  constexpr int64_t L16 = kV / 2, L32 = kV / 4;

  VI8 cpair[P > 0 ? P : 1];
  for (int j = 0; j < P; ++j) cpair[j] = PairOf(d16, lc.c[2 * j], lc.c[2 * j + 1]);
  const VI8 ceven = PairOf(d16, ODD ? lc.c[B - 1] : 0, 0), codd = PairOf(d16, 0, ODD ? lc.c[B - 1] : 0);
  // Each block's sums start at minus its table offset, so they end as the true sums (see the top
  // of the file for why an int16 holds them).
  const V16 start_full = hn::Set(d16, int16_t(-lc.quad_offset * 2 * kOctetsPerBlock));

  HWY_ALIGN float gacc[NT][MB][quant::kTileRows] = {};
  HWY_ALIGN float yacc[NT][MB][quant::kTileRows] = {};
  const uint8_t* HWY_RESTRICT wt[NT];
  for (int t = 0; t < NT; ++t) wt[t] = a.w + (tile + t) * a.octets * B * quant::kTileRows;
  const uint8_t* HWY_RESTRICT tb[MB];
  for (int m = 0; m < MB; ++m) tb[m] = rows.tbl + (m0 + m) * rows.tbl_stride;

  for (int64_t blk = 0, in_group = 0; blk < lc.blocks; ++blk) {
    const int64_t o0 = blk * kOctetsPerBlock, o1 = std::min(o0 + kOctetsPerBlock, a.octets);
    const V16 start = o1 - o0 == kOctetsPerBlock ? start_full : hn::Set(d16, int16_t(-lc.quad_offset * 2 * (o1 - o0)));
    // The loops over tiles are unrolled so that acc stays in registers (NT <= 4).
    V16 acc[NT][MB][kAcc];
    HWY_UNROLL(4)
    for (int t = 0; t < NT; ++t)
      for (int m = 0; m < MB; ++m)
        for (int i = 0; i < kAcc; ++i) acc[t][m][i] = start;
    for (int64_t o = o0; o < o1; ++o) {
      V8 tlo[MB], thi[MB];
      for (int m = 0; m < MB; ++m) {
        tlo[m] = hn::LoadDup128(D8(), tb[m] + o * 32);
        thi[m] = hn::LoadDup128(D8(), tb[m] + o * 32 + 16);
      }
      HWY_UNROLL(4)
      for (int t = 0; t < NT; ++t) {
        const uint8_t* HWY_RESTRICT wo = wt[t] + o * B * quant::kTileRows;
        // The hardware prefetcher stops at 4 KiB pages; a software prefetch a few KiB ahead keeps
        // the stream going across them.
        for (int line = 0; line < B; ++line) PrefetchL2(wo + kPrefetchBytes<NT> + line * 64);
        for (int j = 0; j < P; ++j) {
          HWY_UNROLL(8)
          for (int i = 0; i < kAcc; ++i) {
            const Nibbles nb = SplitNibbles(hn::LoadU(D8(), wo + j * 128 + i * kV));
            for (int m = 0; m < MB; ++m) {
              const V16 s = hn::Add(MulPairs(d16, LookupNibble(tlo[m], nb.lo), cpair[j]),
                                    MulPairs(d16, LookupNibble(thi[m], nb.hi), cpair[j]));
              acc[t][m][i] = hn::Add(acc[t][m][i], s);
            }
          }
        }
        if constexpr (ODD) {
          // One plane, 64 rows in 64 bytes: the even byte of each pair is a row of 0..31, the odd
          // byte the row 32 further; weights (c, 0) and (0, c) pick them apart.
          HWY_UNROLL(4)
          for (int i = 0; i < kAcc / 2; ++i) {
            const Nibbles nb = SplitNibbles(hn::LoadU(D8(), wo + P * 128 + i * kV));
            for (int m = 0; m < MB; ++m) {
              const V8 slo = LookupNibble(tlo[m], nb.lo), shi = LookupNibble(thi[m], nb.hi);
              acc[t][m][i] = hn::Add(acc[t][m][i], hn::Add(MulPairs(d16, slo, ceven), MulPairs(d16, shi, ceven)));
              acc[t][m][i + kAcc / 2] =
                  hn::Add(acc[t][m][i + kAcc / 2], hn::Add(MulPairs(d16, slo, codd), MulPairs(d16, shi, codd)));
            }
          }
        }
      }
    }
    // Block done: scale by the block's table step, add to the group sums.
    for (int m = 0; m < MB; ++m) {
      const auto ts = hn::Set(df, rows.tscale[(m0 + m) * lc.blocks + blk]);
      HWY_UNROLL(4)
      for (int t = 0; t < NT; ++t)
        for (int i = 0; i < kAcc; ++i) {
          float* g = gacc[t][m] + i * L16;
          const auto lo = hn::ConvertTo(df, hn::PromoteTo(di32, hn::LowerHalf(dh16, acc[t][m][i])));
          const auto hi = hn::ConvertTo(df, hn::PromoteTo(di32, hn::UpperHalf(dh16, acc[t][m][i])));
          hn::Store(hn::MulAdd(lo, ts, hn::Load(df, g)), df, g);
          hn::Store(hn::MulAdd(hi, ts, hn::Load(df, g + L32)), df, g + L32);
        }
    }
    if (++in_group == lc.blocks_per_group || blk + 1 == lc.blocks) {
      LutRows sub = rows;
      sub.bsum = rows.bsum + m0 * lc.blocks;
      for (int t = 0; t < NT; ++t) CloseGroup<MB>(a, lc, sub, tile + t, blk / lc.blocks_per_group, gacc[t], yacc[t]);
      in_group = 0;
    }
  }
  for (int t = 0; t < NT; ++t) StoreRows<MB>(a, tile + t, m0, yacc[t]);
}

#else  // HWY_SCALAR: the same arithmetic, one lookup at a time, one tile after the other.

constexpr int kMB = 1;

template <int P, bool ODD, int MB, int NT>
HWY_NOINLINE void LutTile(const CpuArgs& a, const LutConsts& lc, const LutRows& rows, int64_t first_tile, int64_t m0) {
  constexpr int B = 2 * P + (ODD ? 1 : 0);
  for (int64_t tile = first_tile; tile < first_tile + NT; ++tile) {
    float gacc[1][quant::kTileRows] = {}, yacc[1][quant::kTileRows] = {};
    const uint8_t* wt = a.w + tile * a.octets * B * quant::kTileRows;
    const uint8_t* tb = rows.tbl + m0 * rows.tbl_stride;
    for (int64_t blk = 0; blk < lc.blocks; ++blk) {
      int32_t acc[quant::kTileRows] = {};
      const int64_t o0 = blk * kOctetsPerBlock, o1 = std::min(o0 + kOctetsPerBlock, a.octets);
      for (int64_t o = o0; o < o1; ++o) {
        const uint8_t* wo = wt + o * B * quant::kTileRows;
        for (int r = 0; r < quant::kTileRows; ++r)
          for (int b = 0; b < B; ++b) {
            const int64_t pos = b < 2 * P ? (b / 2) * 128 + 16 * (r / 8) + 2 * (r % 8) + (b % 2)
                                          : int64_t(B - 1) * 64 + 16 * ((r % 32) / 8) + 2 * (r % 8) + r / 32;
            const uint8_t byte = wo[pos];
            acc[r] += lc.c[b] * (int(tb[o * 32 + (byte & 15)]) + int(tb[o * 32 + 16 + (byte >> 4)]));
          }
      }
      const float ts = rows.tscale[m0 * lc.blocks + blk];
      for (int r = 0; r < quant::kTileRows; ++r) gacc[0][r] += float(acc[r] - lc.quad_offset * 2 * (o1 - o0)) * ts;
      if ((blk + 1) % lc.blocks_per_group == 0 || blk + 1 == lc.blocks) {
        LutRows sub = rows;
        sub.bsum = rows.bsum + m0 * lc.blocks;
        CloseGroup<1>(a, lc, sub, tile, blk / lc.blocks_per_group, gacc, yacc);
      }
    }
    StoreRows<1>(a, tile, m0, yacc);
  }
}

#endif  // HWY_TARGET != HWY_SCALAR

// ---- Driver -------------------------------------------------------------------------------------------

// X[row, k0 .. k0+len) as f32, zero past k.
HWY_INLINE void ActivationSpan(const CpuArgs& a, int64_t row, int64_t k0, int64_t len, float* HWY_RESTRICT out) {
  const int64_t valid = std::clamp<int64_t>(a.s.k - k0, 0, len);
  if (a.s.act == DType::f32) {
    std::memcpy(out, static_cast<const float*>(a.x) + row * a.s.k + k0, size_t(valid) * sizeof(float));
  } else {
    const uint16_t* src = static_cast<const uint16_t*>(a.x) + row * a.s.k + k0;
    for (int64_t i = 0; i < valid; ++i) out[i] = bf16_to_f32(src[i]);
  }
  std::fill(out + valid, out + len, 0.0f);
}

using TileFn = void (*)(const CpuArgs&, const LutConsts&, const LutRows&, int64_t, int64_t);

// Tiles one row of X sweeps at once when a chunk has fewer rows than kMB (a GEMV). On the 2-core
// VM, cold, two threads (bench/results/cpu/lut-gemv-streams.cpp): reading W with the lookups'
// arithmetic, two tiles side by side are 13-22% faster than one at a time, a plain read gains only
// 6-9%: with one stream the arithmetic between the loads leaves fewer lines in flight. In the
// kernel (with kPrefetchBytes<2>), 2-bit and ternary GEMVs at k = 4096 and 14336 went 1.10-1.15x
// faster (medians); 4 tiles were slower than 2 (docs/formats.md, "Two tiles per GEMV row").
constexpr int kGemvTiles = 2;

// The tile kernels of one bit width: kMB rows per block_tiles tiles, one row per tile, one row per
// gemv_tiles tiles; and kMB rows per tile where block_tiles do not fit (block_one).
struct TileFns {
  TileFn block, single, gemv;
  int gemv_tiles = kGemvTiles;
  int block_tiles = 1;
  TileFn block_one = nullptr;  // needed when block_tiles > 1
  // Row lanes with one chunk: each item first repacks its tile (block_tiles = gemv_tiles = 1) into
  // the thread's buffer of repack_bytes, which the kernels then read (LutConsts::row_lanes).
  void (*repack)(const CpuArgs&, int64_t tile, int64_t blocks, uint8_t* dst) = nullptr;
  int64_t repack_bytes = 0;
};

template <int P, bool ODD>
TileFns PickTiles() {
  return {&LutTile<P, ODD, kMB, 1>, &LutTile<P, ODD, 1, 1>, &LutTile<P, ODD, 1, kGemvTiles>};
}

// ---- 1- and 2-bit weights in row lanes (AVX3_DL, several rows of X) -----------------------------------
// A planar 1-bit octet holds 64 rows in 64 bytes, rows r and r + 32 side by side, so its lookups give
// one byte per row that must be widened apart (LutTile's ODD path: two lookups, four vpmaddubsw and
// four adds a row of X per octet). Repacked so that a 32-bit lane holds one row's four octets of a
// 32-weight block, one vpermb looks up four different tables at once (a byte's position in its lane
// selects one of the four 16-entry tables a 64-byte register holds, through index bits 4-5) and one
// vpdpbusd against the plane weight c sums the four lookups into that row's int32: per block and row
// of X, 2 vpermb and 2 vpdpbusd per 16 rows, against 8 vpermb, 16 vpmaddubsw and 16 adds per 64 rows, and
// the int32 sums need no widening before the block's float step. The tables and their int8
// rounding are LutTile's (only their order differs, BuildTables' row_lanes), and the integer sums
// are exact, so the outputs are the planar kernels' bit for bit. The repack (8 vpermt2b per 256
// bytes) goes tile by tile into a per-thread buffer where one chunk holds every row of X, else once
// into a copy of W's size (LutGemm), and LutGemm takes this path from RowLanesMinRows rows of X:
// against the planar kernels, in one process alternating call by call (n = 4096, both vCPUs of the
// AVX-512 VM; the same A/B with both sides planar reads within 5%), 1.12-1.16x at m = 8 (k = 4096 and
// 14336) and 1.25x at m = 16 and 32 (session 21, per-tile repack; 1.07-1.10x and 1.31x in session 20
// with the whole copy), 1.40-1.45x at m = 512 (session 20); m = 4 runs the GEMV path either way.
#if HWY_TARGET == HWY_AVX3_DL
constexpr bool kRowLanes = true;
// Rows of X from which row lanes beat the planar kernels (measured; see above and RepackRowLanes2).
constexpr int64_t RowLanesMinRows(int bits) { return bits == 1 ? 8 : 16; }
// One block (32 weights of K) of one tile in row lanes: 4 vectors of 16 rows a bit width, 64 bytes each.
constexpr int64_t RowLaneBlockBytes(int bits) { return bits * 4 * 64; }

// The byte of row r in a planar 1-bit octet (LutTile's ODD layout).
constexpr int PlanarOddByte(int r) { return 16 * ((r % 32) / 8) + 2 * (r % 8) + r / 32; }

// vpermt2b indexes of the repack: two octets' bytes of rows 0-31 (first) or 32-63 (second), row by
// row, then four octets of 16 rows (rows 0-15 of each half, or 16-31) lane by lane.
struct RowLaneIndexes {
  alignas(64) uint8_t pair_lo[64], pair_hi[64], quad_lo[64], quad_hi[64];
};
constexpr RowLaneIndexes MakeRowLaneIndexes() {
  RowLaneIndexes ix{};
  for (int r = 0; r < 32; ++r)
    for (int q = 0; q < 2; ++q) {
      ix.pair_lo[2 * r + q] = uint8_t(PlanarOddByte(r) + 64 * q);
      ix.pair_hi[2 * r + q] = uint8_t(PlanarOddByte(32 + r) + 64 * q);
    }
  for (int l = 0; l < 16; ++l)
    for (int p = 0; p < 4; ++p) {
      ix.quad_lo[4 * l + p] = uint8_t(2 * l + p % 2 + 64 * (p / 2));
      ix.quad_hi[4 * l + p] = uint8_t(2 * (16 + l) + p % 2 + 64 * (p / 2));
    }
  return ix;
}
constexpr RowLaneIndexes kRowLaneIndexes = MakeRowLaneIndexes();

// Tile `tile` of planar 1-bit W into dst: per block, vector v holds rows 16v .. 16v + 15, lane l row
// 16v + l, its byte p octet 4 * blk + p (zero past k).
void RepackRowLanes1(const CpuArgs& a, int64_t tile, int64_t blocks, uint8_t* HWY_RESTRICT dst) {
  const uint8_t* HWY_RESTRICT wt = a.w + tile * a.octets * quant::kTileRows;
  const RowLaneIndexes& ix = kRowLaneIndexes;
  const __m512i pair_lo = _mm512_load_si512(ix.pair_lo), pair_hi = _mm512_load_si512(ix.pair_hi);
  const __m512i quad_lo = _mm512_load_si512(ix.quad_lo), quad_hi = _mm512_load_si512(ix.quad_hi);
  for (int64_t blk = 0; blk < blocks; ++blk) {
    __m512i in[4];
    for (int p = 0; p < 4; ++p) {
      const int64_t o = blk * kOctetsPerBlock + p;
      in[p] = o < a.octets ? _mm512_loadu_si512(wt + o * quant::kTileRows) : _mm512_setzero_si512();
    }
    const __m512i lo01 = _mm512_permutex2var_epi8(in[0], pair_lo, in[1]);
    const __m512i hi01 = _mm512_permutex2var_epi8(in[0], pair_hi, in[1]);
    const __m512i lo23 = _mm512_permutex2var_epi8(in[2], pair_lo, in[3]);
    const __m512i hi23 = _mm512_permutex2var_epi8(in[2], pair_hi, in[3]);
    uint8_t* HWY_RESTRICT out = dst + blk * RowLaneBlockBytes(1);
    _mm512_store_si512(out, _mm512_permutex2var_epi8(lo01, quad_lo, lo23));
    _mm512_store_si512(out + 64, _mm512_permutex2var_epi8(lo01, quad_hi, lo23));
    _mm512_store_si512(out + 128, _mm512_permutex2var_epi8(hi01, quad_lo, hi23));
    _mm512_store_si512(out + 192, _mm512_permutex2var_epi8(hi01, quad_hi, hi23));
  }
}

// acc + the four u8(u) * s8(x) of each 32-bit lane. Highway's AVX3_DL flags lack avx512vnni (its
// runtime check requires VNNI), so the instruction is written directly, as in cpu_idot.cpp.
HWY_INLINE __m512i Dpbusd(__m512i acc, __m512i u, __m512i x) {
  asm("vpdpbusd %2, %1, %0" : "+v"(acc) : "v"(u), "v"(x));
  return acc;
}

// 2 bits: a planar octet is 128 bytes, one 16-bit word per row (its two planes' bytes), rows 0-31 in
// the first 64 and 32-63 in the second. Row lanes pair two octets' words: per block, vector (v, h)
// holds rows 16v .. 16v + 15, lane l = row 16v + l = [plane 0, plane 1 of octet 4 blk + 2h, the same
// of octet 4 blk + 2h + 1] (one vpermt2w), so the lane's bytes 0-1 read octet 2h's table and 2-3 octet
// 2h + 1's, and vpdpbusd weighs them by the planes' (c0, c1, c0, c1): two vectors, four lookups and
// four vpdpbusd per block, row of X and 16 rows, against the planar kernel's 8 vpermb, 8 vpmaddubsw
// and 8 adds per 32 rows and its int16 blocks' conversion. As for 1 bit, the same tables and exact
// integer sums: the planar kernels' results bit for bit. It gains less than 1 bit does (four
// vpdpbusd a block, and vpdpbusd, the conversion and the FMA all issue on port 0 here): against the
// planar kernel, alternating call by call (session 20), 1.09-1.12x at m = 512 (2 bits, k = 4096 and
// 14336; ternary 1.10-1.13x), 1.04-1.13x at m = 64 and 128, 0.95x at m = 16 and 0.70-0.80x at m = 8, where
// the repacked copy's trip through memory costs more than the lookups save. Since session 25's span
// sweep (LutRowLanesTile) they win from m = 16: against the planar kernel in separate interleaved
// `tessel bench` runs (cold caches), 1.04-1.11x at m = 16 (k = 4096 and 14336, ternary too), 0.91-0.97x
// at m = 8 (k = 4096; ternary 0.95x at 14336). So 2 bits take it from m = 16.
void RepackRowLanes2(const CpuArgs& a, int64_t tile, int64_t blocks, uint8_t* HWY_RESTRICT dst) {
  const uint8_t* HWY_RESTRICT wt = a.w + tile * a.octets * 2 * quant::kTileRows;
  HWY_ALIGN uint16_t idx[2][32];
  for (int half = 0; half < 2; ++half)
    for (int l = 0; l < 16; ++l) {
      idx[half][2 * l] = uint16_t(16 * half + l);
      idx[half][2 * l + 1] = uint16_t(32 + 16 * half + l);
    }
  const __m512i idx0 = _mm512_load_si512(idx[0]), idx1 = _mm512_load_si512(idx[1]);
  for (int64_t blk = 0; blk < blocks; ++blk) {
    __m512i in[4][2];  // octet p of the block, rows 0-31 and 32-63
    for (int p = 0; p < 4; ++p) {
      const int64_t o = blk * kOctetsPerBlock + p;
      for (int z = 0; z < 2; ++z)
        in[p][z] = o < a.octets ? _mm512_loadu_si512(wt + o * 2 * quant::kTileRows + z * 64) : _mm512_setzero_si512();
    }
    uint8_t* HWY_RESTRICT out = dst + blk * RowLaneBlockBytes(2);
    for (int v = 0; v < 4; ++v)
      for (int h = 0; h < 2; ++h)
        _mm512_store_si512(out + (2 * v + h) * 64,
                           _mm512_permutex2var_epi16(in[2 * h][v / 2], v % 2 ? idx1 : idx0, in[2 * h + 1][v / 2]));
  }
}

// 16 scales (or zero points) of group g of a tile: rows 16 v .. 16 v + 15.
HWY_INLINE __m512 LoadGroupVector(const CpuArgs& a, const void* src, int64_t tile, int64_t g, int v) {
  const DF df;
  const int64_t at = (tile * a.groups + g) * quant::kTileRows + 16 * v;
  switch (a.s.fmt.scale_dtype) {
    case DType::f16: {
      const hn::Rebind<hwy::float16_t, DF> dh;
      return hn::PromoteTo(df, hn::LoadU(dh, static_cast<const hwy::float16_t*>(src) + at)).raw;
    }
    case DType::bf16: {
      const hn::Rebind<hwy::bfloat16_t, DF> db;
      return hn::PromoteTo(df, hn::LoadU(db, static_cast<const hwy::bfloat16_t*>(src) + at)).raw;
    }
    default: return _mm512_loadu_ps(static_cast<const float*>(src) + at);
  }
}

// Blocks a row-lane sweep covers before moving to the next vectors of 16 rows: their tables (4 rows of
// X, 8 KiB) and W (4 or 8 KiB) stay in L1 for the four vectors.
constexpr int64_t kRowLaneSpan = 16;
// Vectors of 16 rows a pass over a span: two share each table load and halve the group changes (the
// close, the loop's exit and set-up) per lookup. In one process against one vector a pass (session 25,
// m = 8 to 512, 1 and 2 bits, ternary): 1.03-1.09x; four spill (0.88-0.90x).
constexpr int kPassVectors = 2;

// All of K for rows m0 .. m0 + MB - 1 of X against one tile of row-lane W (BITS vectors of 16 rows a
// block). A lane's int32 is a whole block of its row, weighted by the planes' c in vpdpbusd and
// offset as LutTile's int16 sums are (each lookup carries +128), so it goes straight into the block's
// float step. The sweep takes K in spans of kRowLaneSpan blocks and, within a span, kPassVectors
// vectors of 16 rows at a time through all its blocks, keeping their float sums (g) and outputs (y)
// in registers: a group closes there (CloseGroup's arithmetic, in its order, so the results are
// LutTile's bit for bit), and y goes to memory once a span. A group that runs past a span (per-channel
// scales) carries its g to the next span through memory. Closing through CloseGroup instead (g and y
// stored, reloaded and cleared every group) took about a sixth of the 1-bit prefill (session 25:
// skipping it, timing only, 1.19x), and each pass prefetches the next span's W and tables into L1
// (without: 0.84x at k = 14336).
template <int BITS, int MB>
HWY_NOINLINE void LutRowLanesTile(const CpuArgs& a, const LutConsts& lc, const LutRows& rows, int64_t tile,
                                  int64_t m0) {
  static_assert(BITS == 1 || BITS == 2, "row lanes hold 1- and 2-bit weights");
  const __m512i nibble = _mm512_set1_epi8(0x0f);
  // Which of the block's four tables byte p of a lane reads, in index bits 4-5: 1 bit, table p (octet
  // p); 2 bits, vector h's bytes 0-1 table 2h and 2-3 table 2h + 1.
  const __m512i select[2] = {_mm512_set1_epi32(BITS == 1 ? 0x30201000 : 0x10100000), _mm512_set1_epi32(0x30302020)};
  const uint32_t c0 = uint8_t(lc.c[0]), c1 = uint8_t(lc.c[BITS - 1]);
  const __m512i weights = _mm512_set1_epi32(int32_t(c0 | c1 << 8 | c0 << 16 | c1 << 24));
  const __m512i start = _mm512_set1_epi32(-lc.quad_offset * 2 * int32_t(kOctetsPerBlock));
  const int64_t bpg = lc.blocks_per_group;
  HWY_ALIGN float gacc[MB][quant::kTileRows];
  HWY_ALIGN float yacc[MB][quant::kTileRows] = {};
  // The span's table steps and, for each group it closes, the group's sum of x and w0 times it (for
  // w0 and zero points), all rows from one base: copied with masked vector moves once a span.
  HWY_ALIGN float step[MB][kRowLaneSpan], xs[MB][kRowLaneSpan] = {}, w0xs[MB][kRowLaneSpan];
  const bool sums = lc.w0 != 0 || lc.zeros;
  const __m512 w0 = _mm512_set1_ps(float(lc.w0));
  float run[MB] = {};  // without gsum: the open group's sum of x so far
  const uint8_t* HWY_RESTRICT wt = lc.row_lanes + tile * lc.row_lanes_tile_stride;
  const uint8_t* HWY_RESTRICT tb[MB];
  for (int m = 0; m < MB; ++m) tb[m] = rows.tbl + (m0 + m) * rows.tbl_stride;
  for (int64_t s0 = 0; s0 < lc.blocks; s0 += kRowLaneSpan) {
    const int64_t s1 = std::min(s0 + kRowLaneSpan, lc.blocks), first_group = s0 / bpg;
    const __mmask16 span_lanes = _cvtu32_mask16((1u << (s1 - s0)) - 1u);
    const __mmask16 group_lanes = _cvtu32_mask16((1u << ((s1 - 1) / bpg - first_group + 1)) - 1u);
    for (int m = 0; m < MB; ++m) {
      _mm512_store_ps(step[m], _mm512_maskz_loadu_ps(span_lanes, rows.tscale + (m0 + m) * lc.blocks + s0));
      if (!sums) continue;
      if (rows.gsum) {
        _mm512_store_ps(xs[m], _mm512_maskz_loadu_ps(group_lanes, rows.gsum + (m0 + m) * a.groups + first_group));
      } else {
        const float* HWY_RESTRICT bs = rows.bsum + (m0 + m) * lc.blocks;
        for (int64_t b = s0; b < s1; ++b) {
          run[m] += bs[b];
          if ((b + 1) % bpg == 0 || b + 1 == lc.blocks) {
            xs[m][b / bpg - first_group] = run[m];
            run[m] = 0;
          }
        }
      }
      _mm512_store_ps(w0xs[m], _mm512_mul_ps(w0, _mm512_load_ps(xs[m])));
    }
    const bool carried = s0 % bpg != 0;  // the span opens inside a group
    for (int v0 = 0; v0 < 4; v0 += kPassVectors) {
      __m512 g[kPassVectors][MB], y[kPassVectors][MB];
      for (int u = 0; u < kPassVectors; ++u)
        for (int m = 0; m < MB; ++m) {
          g[u][m] = carried ? _mm512_load_ps(gacc[m] + 16 * (v0 + u)) : _mm512_setzero_ps();
          y[u][m] = _mm512_load_ps(yacc[m] + 16 * (v0 + u));
        }
      // Each pass prefetches its own lines of the next span's W and a share of X's tables.
      const uint8_t* HWY_RESTRICT tpf = tb[v0 % MB] + kRowLaneSpan * 128;
      const uint8_t* HWY_RESTRICT wpf = wt + kRowLaneSpan * RowLaneBlockBytes(BITS) + BITS * v0 * 64;
      int64_t group = first_group, group_end = std::min((first_group + 1) * bpg, lc.blocks), blk = s0;
      for (;;) {
        const int64_t end = std::min(group_end, s1);
        for (; blk < end; ++blk) {
          for (int h = 0; h < BITS * kPassVectors; ++h)
            _mm_prefetch(reinterpret_cast<const char*>(wpf + blk * RowLaneBlockBytes(BITS) + h * 64), _MM_HINT_T0);
          _mm_prefetch(reinterpret_cast<const char*>(tpf + blk * 128), _MM_HINT_T0);
          _mm_prefetch(reinterpret_cast<const char*>(tpf + blk * 128 + 64), _MM_HINT_T0);
          __m512i lo[kPassVectors][BITS], hi[kPassVectors][BITS];
          for (int u = 0; u < kPassVectors; ++u)
            for (int h = 0; h < BITS; ++h) {
              const __m512i w = _mm512_load_si512(wt + blk * RowLaneBlockBytes(BITS) + (BITS * (v0 + u) + h) * 64);
              lo[u][h] = _mm512_ternarylogic_epi32(w, nibble, select[h], 0xEA);  // (w & 0x0f) | select
              hi[u][h] = _mm512_ternarylogic_epi32(_mm512_srli_epi16(w, 4), nibble, select[h], 0xEA);
            }
          for (int m = 0; m < MB; ++m) {
            const __m512i tl = _mm512_load_si512(tb[m] + blk * 128), th = _mm512_load_si512(tb[m] + blk * 128 + 64);
            for (int u = 0; u < kPassVectors; ++u) {
              __m512i sum = start;
              for (int h = 0; h < BITS; ++h) {
                sum = Dpbusd(sum, _mm512_permutexvar_epi8(lo[u][h], tl), weights);
                sum = Dpbusd(sum, _mm512_permutexvar_epi8(hi[u][h], th), weights);
              }
              g[u][m] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sum), _mm512_set1_ps(step[m][blk - s0]), g[u][m]);
            }
          }
        }
        if (end < group_end) break;  // the group goes on in the next span
        // y += s * (g + w0 * sum x - z * sum x)
        for (int u = 0; u < kPassVectors; ++u) {
          const __m512 sv = LoadGroupVector(a, a.scales, tile, group, v0 + u);
          const __m512 zv = lc.zeros ? LoadGroupVector(a, a.zeros, tile, group, v0 + u) : _mm512_setzero_ps();
          for (int m = 0; m < MB; ++m) {
            __m512 t = g[u][m];
            if (lc.w0 != 0) t = _mm512_add_ps(t, _mm512_set1_ps(w0xs[m][group - first_group]));
            if (lc.zeros) t = _mm512_fnmadd_ps(zv, _mm512_set1_ps(xs[m][group - first_group]), t);
            y[u][m] = _mm512_fmadd_ps(sv, t, y[u][m]);
            g[u][m] = _mm512_setzero_ps();
          }
        }
        if (end == s1) break;
        ++group;
        group_end = std::min(group_end + bpg, lc.blocks);
      }
      for (int u = 0; u < kPassVectors; ++u)
        for (int m = 0; m < MB; ++m) {
          _mm512_store_ps(yacc[m] + 16 * (v0 + u), y[u][m]);
          if (s1 < group_end) _mm512_store_ps(gacc[m] + 16 * (v0 + u), g[u][m]);
        }
    }
  }
  StoreRows<MB>(a, tile, m0, yacc);
}

void RepackRowLanes(const CpuArgs& a, int64_t tile, int64_t blocks, uint8_t* HWY_RESTRICT dst) {
  if (a.s.fmt.bits == 1) RepackRowLanes1(a, tile, blocks, dst);
  else RepackRowLanes2(a, tile, blocks, dst);
}

TileFns PickRowLaneTiles(int bits) {
  TileFns fns = bits == 1 ? TileFns{&LutRowLanesTile<1, kMB>, &LutRowLanesTile<1, 1>, &LutRowLanesTile<1, 1>}
                          : TileFns{&LutRowLanesTile<2, kMB>, &LutRowLanesTile<2, 1>, &LutRowLanesTile<2, 1>};
  fns.gemv_tiles = 1;
  return fns;
}
#else
constexpr bool kRowLanes = false;
constexpr int64_t RowLanesMinRows(int) { return 0; }
constexpr int64_t RowLaneBlockBytes(int bits) { return bits * 4 * 64; }
void RepackRowLanes(const CpuArgs&, int64_t, int64_t, uint8_t*) {}
TileFns PickRowLaneTiles(int) { return {}; }
#endif

// ---- ternary5 -------------------------------------------------------------------------------------------

// The activations of `runs` runs of one row of X from column col0 (zero from col_end on) into xs,
// and the largest sum |x| of a run: max|T| over the run's table, which sets the table step.
// *finite turns false where a sum is infinite or NaN.
HWY_INLINE float GatherRuns(const CpuArgs& a, int64_t row, int64_t col0, int64_t col_end, int64_t runs,
                            float (*HWY_RESTRICT xs)[quant::kTritsPerByte], bool* finite) {
  float amax = 0;
  for (int64_t j = 0; j < runs; ++j) {
    float sum = 0;
    for (int i = 0; i < quant::kTritsPerByte; ++i) {
      const int64_t col = col0 + j * quant::kTritsPerByte + i;
      float x = 0;
      if (col < col_end) {
        x = a.s.act == DType::f32 ? static_cast<const float*>(a.x)[row * a.s.k + col]
                                  : bf16_to_f32(static_cast<const uint16_t*>(a.x)[row * a.s.k + col]);
      }
      xs[j][i] = x;
      sum += std::fabs(x);
    }
    *finite = *finite && std::isfinite(sum);
    amax = std::max(amax, sum);
  }
  return amax;
}

// Where a ternary5 tile kernel reads: its NT tiles of W (row_runs runs of 64 bytes each) and the
// tables of its MB rows of X.
template <int MB, int NT>
struct Trit5Streams {
  const uint8_t* w[NT];
  const uint8_t* tbl[MB];
  Trit5Streams(const CpuArgs& a, const LutConsts& lc, const LutRows& rows, int64_t tile, int64_t m0) {
    for (int t = 0; t < NT; ++t) w[t] = a.w + (tile + t) * lc.row_runs * quant::kTileRows;
    for (int m = 0; m < MB; ++m) tbl[m] = rows.tbl + (m0 + m) * rows.tbl_stride;
  }
};

#if HWY_TARGET == HWY_AVX3_DL
constexpr bool kTrit5 = true;
constexpr int64_t kTrit5TableBytes = 128;  // per run: the 128 entries

// The digits of table entries 0..127 (quant::trits_of: a byte's magnitude), as f32 vectors in the
// order the packing instructions want. Packing four 16-lane vectors of int32 to bytes interleaves
// them by 128-bit lane, so vector q of table half h holds, in lane l, entry
// 64 h + 16 (l / 4) + 4 q + l % 4: the packed bytes then come out in entry order.
struct TritDigits {
  HWY_ALIGN float v[quant::kTritsPerByte][2][4][16];
};
const TritDigits& trit_digits() {
  static const TritDigits d = [] {
    TritDigits t{};
    for (int h = 0; h < 2; ++h)
      for (int q = 0; q < 4; ++q)
        for (int l = 0; l < 16; ++l) {
          const quant::Trits tr = quant::trits_of(uint8_t(64 * h + 16 * (l / 4) + 4 * q + l % 4));
          for (int i = 0; i < quant::kTritsPerByte; ++i) t.v[i][h][q][l] = float(tr.d[i]);
        }
    return t;
  }();
  return d;
}

// Tables for `runs` runs of one row of X whose activations start at column col0 of the row and end
// (zero past it) at col_end, the end of their group: 128 bytes a run, T[e] / step + 128 with T[e] the
// sum of the run's activations times e's digits, and the block's step. max |T| over a run is the
// sum of its |x| (entry 121: all digits +1), so the step is known before any entry is computed.
void BuildTrit5Block(const CpuArgs& a, int64_t row, int64_t col0, int64_t col_end, int64_t runs, uint8_t* HWY_RESTRICT tbl,
                     float* HWY_RESTRICT step) {
  const TritDigits& dg = trit_digits();
  HWY_ALIGN float xs[kTritRunsPerBlock][quant::kTritsPerByte];
  bool finite = true;
  const float amax = GatherRuns(a, row, col0, col_end, runs, xs, &finite);
  // Tables cannot hold an infinity or NaN; such a block makes its rows' outputs NaN, never a finite
  // wrong value.
  *step = finite ? amax / 127.0f : std::numeric_limits<float>::quiet_NaN();
  const float inv = finite && amax > 0 ? 127.0f / amax : 0.0f;
  const __m512i flip = _mm512_set1_epi8(char(0x80));
  for (int64_t j = 0; j < runs; ++j) {
    __m512 xv[quant::kTritsPerByte];
    HWY_UNROLL(5)
    for (int i = 0; i < quant::kTritsPerByte; ++i) xv[i] = _mm512_set1_ps(xs[j][i] * inv);
    HWY_UNROLL(2)
    for (int h = 0; h < 2; ++h) {
      __m512i q32[4];
      HWY_UNROLL(4)
      for (int q = 0; q < 4; ++q) {
        __m512 v = _mm512_mul_ps(xv[0], _mm512_load_ps(dg.v[0][h][q]));
        HWY_UNROLL(4)
        for (int i = 1; i < quant::kTritsPerByte; ++i) v = _mm512_fmadd_ps(xv[i], _mm512_load_ps(dg.v[i][h][q]), v);
        q32[q] = _mm512_cvtps_epi32(v);  // |v| <= 127: no saturation below
      }
      const __m512i packed = _mm512_packs_epi16(_mm512_packs_epi32(q32[0], q32[1]), _mm512_packs_epi32(q32[2], q32[3]));
      _mm512_store_si512(tbl + j * 128 + 64 * h, _mm512_xor_si512(packed, flip));
    }
  }
}

// All of K for rows m0 .. m0+MB-1 of X against NT adjacent tiles, as LutTile. Per run: one lookup
// per 64 rows and row of X (vpermi2b reads the magnitude, bits 0..6, and ignores the sign), the sign
// bit negates it (in the +128 offset form, negation is 0 - u mod 256), and the 16-bit lanes, which
// hold rows r and r + 32 in their low and high bytes, split into two int16 sums.
template <int MB, int NT>
HWY_NOINLINE void Trit5Tile(const CpuArgs& a, const LutConsts& lc, const LutRows& rows, int64_t tile, int64_t m0) {
  constexpr int64_t R = quant::kTileRows;
  HWY_ALIGN float gacc[NT][MB][R] = {};
  HWY_ALIGN float yacc[NT][MB][R] = {};
  const Trit5Streams<MB, NT> in(a, lc, rows, tile, m0);
  const uint8_t* const* wt = in.w;
  const uint8_t* const* tb = in.tbl;
  const __m512i zero = _mm512_setzero_si512();

  for (int64_t g = 0; g < a.groups; ++g) {
    const int64_t g0 = g * lc.runs_per_group, g1 = std::min(g0 + lc.runs_per_group, lc.row_runs);
    for (int64_t j0 = g0, blk = g * lc.blocks_per_group; j0 < g1; j0 += kTritRunsPerBlock, ++blk) {
      const int64_t j1 = std::min(j0 + kTritRunsPerBlock, g1);
      // Whole 16-bit lanes and their high bytes; the low bytes' sum is the difference (below 2^16).
      __m512i lanes[NT][MB], hi[NT][MB];
      HWY_UNROLL(4)
      for (int t = 0; t < NT; ++t)
        for (int m = 0; m < MB; ++m) lanes[t][m] = hi[t][m] = zero;
      for (int64_t j = j0; j < j1; ++j) {
        __m512i ta[MB], tbh[MB];
        for (int m = 0; m < MB; ++m) {
          ta[m] = _mm512_load_si512(tb[m] + j * 128);
          tbh[m] = _mm512_load_si512(tb[m] + j * 128 + 64);
        }
        HWY_UNROLL(4)
        for (int t = 0; t < NT; ++t) {
          const uint8_t* HWY_RESTRICT wj = wt[t] + j * R;
          PrefetchL2(wj + kPrefetchBytes<NT>);
          const __m512i w = _mm512_loadu_si512(wj);
          const __mmask64 neg = _mm512_movepi8_mask(w);
          for (int m = 0; m < MB; ++m) {
            __m512i r = _mm512_permutex2var_epi8(ta[m], w, tbh[m]);
            r = _mm512_mask_sub_epi8(r, neg, zero, r);
            lanes[t][m] = _mm512_add_epi16(lanes[t][m], r);
            hi[t][m] = _mm512_add_epi16(hi[t][m], _mm512_srli_epi16(r, 8));
          }
        }
      }
      // Block done: remove the offsets, scale by the block's step, add to the group sums.
      const __m512i bias = _mm512_set1_epi16(int16_t(128 * (j1 - j0)));
      for (int m = 0; m < MB; ++m) {
        const __m512 st = _mm512_set1_ps(rows.tscale[(m0 + m) * lc.blocks + blk]);
        HWY_UNROLL(4)
        for (int t = 0; t < NT; ++t) {
          const __m512i lo = _mm512_sub_epi16(lanes[t][m], _mm512_slli_epi16(hi[t][m], 8));
          const __m512i l = _mm512_sub_epi16(lo, bias), h = _mm512_sub_epi16(hi[t][m], bias);
          const __m512i parts[4] = {_mm512_cvtepi16_epi32(_mm512_castsi512_si256(l)),
                                    _mm512_cvtepi16_epi32(_mm512_extracti64x4_epi64(l, 1)),
                                    _mm512_cvtepi16_epi32(_mm512_castsi512_si256(h)),
                                    _mm512_cvtepi16_epi32(_mm512_extracti64x4_epi64(h, 1))};
          for (int q = 0; q < 4; ++q) {
            float* gq = gacc[t][m] + 16 * q;
            _mm512_store_ps(gq, _mm512_fmadd_ps(_mm512_cvtepi32_ps(parts[q]), st, _mm512_load_ps(gq)));
          }
        }
      }
    }
    for (int t = 0; t < NT; ++t) CloseGroup<MB>(a, lc, rows, tile + t, g, gacc[t], yacc[t]);
  }
  for (int t = 0; t < NT; ++t) StoreRows<MB>(a, tile + t, m0, yacc[t]);
}

// A run's table is 128 bytes a row of X, read from L2 (a row's tables outgrow L1 past k = 1920), so
// each load of one serves several tiles: four in a GEMV row, two for the four rows of a block (their
// accumulators and tables then fill the 32 registers), where the bit-plane kernels' 32-byte tables
// stay with two and one.
constexpr int kTrit5GemvTiles = 4;
constexpr int kTrit5BlockTiles = 2;
TileFns PickTrit5Tiles() {
  return {&Trit5Tile<kMB, kTrit5BlockTiles>, &Trit5Tile<1, 1>, &Trit5Tile<1, kTrit5GemvTiles>, kTrit5GemvTiles,
          kTrit5BlockTiles, &Trit5Tile<kMB, 1>};
}

#elif HWY_TARGET != HWY_SCALAR
// Below AVX3_DL there is no 128-entry lookup, only pshufb's 16 entries per 128-bit lane. So a byte's
// value v = sum d_i 3^i is split as v = 9 h + l: l = d0 + 3 d1 in [-4, 4] and h = d2 + 3 d3 + 9 d4,
// and each run gets two 16-entry tables, TL (l + 4 -> d0 x0 + d1 x1) and TH (h -> d2 x2 + d3 x3 +
// d4 x4). For a magnitude m (bits 0..6), h' = round(m / 9) = (m + 4) * 57 >> 9 (exact for m <= 127,
// pmaddubsw takes the products) and l + 4 = m + 4 - 9 h'. Magnitudes 122..127 (v = m - 243) give h'
// = 14, which TH holds as h = -13; the rest give h' = h in 0..13. The lookups add in int8 in the
// +128 offset form (TL carries the offset), then the sign bit negates as on AVX3_DL.
constexpr bool kTrit5 = true;
constexpr int64_t kTrit5TableBytes = 32;  // per run: TL (offset by 128), then TH

// Digits of the split tables' entries, as f32: lo[i][e] digit i of l = e - 4 (e <= 8), hi[i][e]
// digit i of h = e (e <= 13) or -13 (e = 14). Unused entries are zero.
struct SplitDigits {
  HWY_ALIGN float lo[2][16];
  HWY_ALIGN float hi[3][16];
};
const SplitDigits& split_digits() {
  static const SplitDigits d = [] {
    SplitDigits t{};
    // Balanced ternary digits of v, lowest first.
    auto digits = [](int v, float* out, int count, int e) {
      for (int i = 0; i < count; ++i) {
        const int r = ((v % 3) + 3) % 3, dg = r == 2 ? -1 : r;
        out[i * 16 + e] = float(dg);
        v = (v - dg) / 3;
      }
    };
    for (int e = 0; e <= 8; ++e) digits(e - 4, &t.lo[0][0], 2, e);
    for (int e = 0; e <= 14; ++e) digits(e == 14 ? -13 : e, &t.hi[0][0], 3, e);
    return t;
  }();
  return d;
}

// As the AVX3_DL builder, for the split tables: 32 bytes a run. The step is max sum|x| / 126, so
// that the two rounded lookups of a run still sum to at most 127 in magnitude (each rounding adds at
// most half a step) and their int8 sum cannot wrap.
void BuildTrit5Block(const CpuArgs& a, int64_t row, int64_t col0, int64_t col_end, int64_t runs, uint8_t* HWY_RESTRICT tbl,
                     float* HWY_RESTRICT step) {
  const DF df;
  const DI32F di;
  const DU8F du8;
  constexpr int64_t L = int64_t(hn::MaxLanes(DF()));
  const SplitDigits& dg = split_digits();
  HWY_ALIGN float xs[kTritRunsPerBlock][quant::kTritsPerByte];
  bool finite = true;
  const float amax = GatherRuns(a, row, col0, col_end, runs, xs, &finite);
  *step = finite ? amax / 126.0f : std::numeric_limits<float>::quiet_NaN();
  const float inv = finite && amax > 0 ? 126.0f / amax : 0.0f;
  // TL is stored as an unsigned byte with the offset, TH as a signed one (two's complement bits).
  const auto off = hn::Set(di, 128), low_byte = hn::Set(di, 0xff);
  for (int64_t j = 0; j < runs; ++j) {
    const auto x0 = hn::Set(df, xs[j][0] * inv), x1 = hn::Set(df, xs[j][1] * inv), x2 = hn::Set(df, xs[j][2] * inv),
               x3 = hn::Set(df, xs[j][3] * inv), x4 = hn::Set(df, xs[j][4] * inv);
    for (int64_t e = 0; e < 16; e += L) {
      const auto tl = hn::MulAdd(x1, hn::Load(df, dg.lo[1] + e), hn::Mul(x0, hn::Load(df, dg.lo[0] + e)));
      auto th = hn::MulAdd(x3, hn::Load(df, dg.hi[1] + e), hn::Mul(x2, hn::Load(df, dg.hi[0] + e)));
      th = hn::MulAdd(x4, hn::Load(df, dg.hi[2] + e), th);
      // |entries| <= 126.5 before rounding: no saturation in the narrowing below.
      hn::StoreU(hn::DemoteTo(du8, hn::Add(hn::NearestInt(tl), off)), du8, tbl + j * 32 + e);
      hn::StoreU(hn::DemoteTo(du8, hn::And(hn::NearestInt(th), low_byte)), du8, tbl + j * 32 + 16 + e);
    }
  }
}

// u where w's byte has its sign bit clear, 0 - u (mod 256) where it is set.
HWY_INLINE V8 NegateWhereSigned(V8 u, V8 w) {
#if HWY_TARGET == HWY_AVX2
  // psignb negates where its second operand is negative and zeroes where it is 0: w | 1 is never 0.
  return V8{_mm256_sign_epi8(u.raw, _mm256_or_si256(w.raw, _mm256_set1_epi8(1)))};
#elif HWY_TARGET == HWY_SSE4 || HWY_TARGET == HWY_SSSE3
  return V8{_mm_sign_epi8(u.raw, _mm_or_si128(w.raw, _mm_set1_epi8(1)))};
#elif HWY_TARGET == HWY_AVX3
  return V8{_mm512_mask_sub_epi8(u.raw, _mm512_movepi8_mask(w.raw), _mm512_setzero_si512(), u.raw)};
#else
  const D8 d8;
  const DI8 di8;
  return hn::IfThenElse(hn::RebindMask(d8, hn::Lt(hn::BitCast(di8, w), hn::Zero(di8))), hn::Sub(hn::Zero(d8), u), u);
#endif
}

// As the AVX3_DL tile kernel, with the split tables. Per vector of W: the two indexes (shared by
// the rows of X); per row of X: two lookups, their sum, the sign, and the 16-bit lanes' low and high
// bytes (rows r and r + 32) summed apart: A adds whole lanes, H their high bytes, and the low bytes'
// sum is A - 256 H (mod 2^16; at most 32 * 255, so exact).
template <int MB, int NT>
HWY_NOINLINE void Trit5Tile(const CpuArgs& a, const LutConsts& lc, const LutRows& rows, int64_t tile, int64_t m0) {
  const D8 d8;
  const D16 d16;
  const DI32 di32;
  const DF16 df;
  const hn::Half<D16> dh16;
  const hn::RebindToUnsigned<D16> du16;
  constexpr int64_t R = quant::kTileRows, L16 = kV / 2, L32 = kV / 4;
  constexpr int VR = int(R / kV);  // vectors per run and tile
  HWY_ALIGN float gacc[NT][MB][R] = {};
  HWY_ALIGN float yacc[NT][MB][R] = {};
  const Trit5Streams<MB, NT> in(a, lc, rows, tile, m0);
  const uint8_t* const* wt = in.w;
  const uint8_t* const* tb = in.tbl;
  const V8 magnitude = hn::Set(d8, 0x7f), four = hn::Set(d8, 4);
  const VI8 by57_lo = PairOf(d16, 57, 0), by57_hi = PairOf(d16, 0, 57);
  const auto high_byte = hn::Set(du16, 0xff00);

  for (int64_t g = 0; g < a.groups; ++g) {
    const int64_t g0 = g * lc.runs_per_group, g1 = std::min(g0 + lc.runs_per_group, lc.row_runs);
    for (int64_t j0 = g0, blk = g * lc.blocks_per_group; j0 < g1; j0 += kTritRunsPerBlock, ++blk) {
      const int64_t j1 = std::min(j0 + kTritRunsPerBlock, g1);
      V16 sa[NT][MB][VR], sh[NT][MB][VR];
      HWY_UNROLL(4)
      for (int t = 0; t < NT; ++t)
        for (int m = 0; m < MB; ++m)
          for (int v = 0; v < VR; ++v) sa[t][m][v] = sh[t][m][v] = hn::Zero(d16);
      for (int64_t j = j0; j < j1; ++j) {
        V8 tl[MB], th[MB];
        for (int m = 0; m < MB; ++m) {
          tl[m] = hn::LoadDup128(d8, tb[m] + j * 32);
          th[m] = hn::LoadDup128(d8, tb[m] + j * 32 + 16);
        }
        HWY_UNROLL(4)
        for (int t = 0; t < NT; ++t) {
          const uint8_t* HWY_RESTRICT wj = wt[t] + j * R;
          PrefetchL2(wj + kPrefetchBytes<NT>);
          HWY_UNROLL(4)
          for (int v = 0; v < VR; ++v) {
            const V8 w = hn::LoadU(d8, wj + v * kV);
            const V8 m4 = hn::Add(hn::And(w, magnitude), four);
            // h' of the low bytes lands in bits 0..4 of each lane, of the high bytes in bits 8..12.
            const auto plo = hn::BitCast(du16, MulPairs(d16, m4, by57_lo));
            const auto phi = hn::BitCast(du16, MulPairs(d16, m4, by57_hi));
            const auto h16 = hn::Or(hn::ShiftRight<9>(plo), hn::And(hn::ShiftRight<1>(phi), high_byte));
            const V8 hidx = hn::BitCast(d8, h16);
            // 9 h' per byte: 8 h' <= 112 stays within its byte.
            const V8 lidx = hn::Sub(m4, hn::BitCast(d8, hn::Add(hn::ShiftLeft<3>(h16), h16)));
            for (int m = 0; m < MB; ++m) {
              const V8 u = NegateWhereSigned(
                  hn::Add(hn::TableLookupBytes(tl[m], lidx), hn::TableLookupBytes(th[m], hidx)), w);
              const V16 u16 = hn::BitCast(d16, u);
              sa[t][m][v] = hn::Add(sa[t][m][v], u16);
              sh[t][m][v] = hn::Add(sh[t][m][v], hn::BitCast(d16, hn::ShiftRight<8>(hn::BitCast(du16, u))));
            }
          }
        }
      }
      // Block done: the low bytes' sums, minus the offsets, scaled by the block's step.
      const V16 bias = hn::Set(d16, int16_t(128 * (j1 - j0)));
      for (int m = 0; m < MB; ++m) {
        const auto st = hn::Set(df, rows.tscale[(m0 + m) * lc.blocks + blk]);
        HWY_UNROLL(4)
        for (int t = 0; t < NT; ++t)
          for (int v = 0; v < VR; ++v) {
            const V16 lo = hn::Sub(hn::Sub(sa[t][m][v], hn::ShiftLeft<8>(sh[t][m][v])), bias);
            const V16 hi = hn::Sub(sh[t][m][v], bias);
            const V16 parts[2] = {lo, hi};
            for (int p = 0; p < 2; ++p) {
              // Lane l of vector v holds row L16 v + l (low bytes) or 32 + L16 v + l (high bytes).
              float* gq = gacc[t][m] + 32 * p + L16 * v;
              const auto a0 = hn::ConvertTo(df, hn::PromoteTo(di32, hn::LowerHalf(dh16, parts[p])));
              const auto a1 = hn::ConvertTo(df, hn::PromoteTo(di32, hn::UpperHalf(dh16, parts[p])));
              hn::Store(hn::MulAdd(a0, st, hn::Load(df, gq)), df, gq);
              hn::Store(hn::MulAdd(a1, st, hn::Load(df, gq + L32)), df, gq + L32);
            }
          }
      }
    }
    for (int t = 0; t < NT; ++t) CloseGroup<MB>(a, lc, rows, tile + t, g, gacc[t], yacc[t]);
  }
  for (int t = 0; t < NT; ++t) StoreRows<MB>(a, tile + t, m0, yacc[t]);
}

TileFns PickTrit5Tiles() { return {&Trit5Tile<kMB, 1>, &Trit5Tile<1, 1>, &Trit5Tile<1, kGemvTiles>}; }

#else
constexpr bool kTrit5 = false;
constexpr int64_t kTrit5TableBytes = 0;
#endif  // HWY_TARGET == HWY_AVX3_DL

bool LutTernary5Ready() { return kTrit5; }


// Runs a whole call on the pool: for each chunk of rows of X, first their tables (everyone helps,
// in spans_per_row pieces a row, build(chunk row, absolute row, span) each, then waits until all are
// built), then the tiles, one item at a time. Both table layouts (bit planes, ternary5) share it.
template <class BuildSpan>
void SweepChunks(const CpuArgs& a, const LutConsts& lc, const TileFns& fns, const LutRows& rows, int64_t chunk,
                 int64_t spans_per_row, BuildSpan&& build) {
  const Shape& s = a.s;
  const int threads = call_threads(a, cpu::hardware_threads());
  for (int64_t mc0 = 0; mc0 < s.m; mc0 += chunk) {
    const int64_t rows_here = std::min(chunk, s.m - mc0);
    const int64_t mblocks = (rows_here + kMB - 1) / kMB;
    // A chunk of fewer rows than kMB (a GEMV) runs its rows one by one, each against gemv_tiles
    // adjacent tiles, when every thread still gets a few items of those.
    const int64_t gemv_tiles = fns.gemv_tiles, block_tiles = fns.block_tiles;
    const bool gemv = rows_here < kMB && a.tiles >= 2 * gemv_tiles * threads;
    const int64_t tiles_per_item = gemv ? gemv_tiles : block_tiles, units = (a.tiles + tiles_per_item - 1) / tiles_per_item;
    // With fewer items than threads, rows of X are split too.
    const int64_t split = units >= threads ? 1 : std::min<int64_t>(mblocks, (threads + units - 1) / units);
    const int64_t items = units * split, spans = rows_here * spans_per_row;
    // Threads take work from shared counters rather than fixed halves: a pool worker that wakes
    // late (a futex wake-up on a VM can take longer than a whole GEMV) still gets its share, and
    // nobody waits for it. Each item (a tile or a GEMV's tile pair, or part of one) is one
    // contiguous stretch of W per tile (64 KiB and up for a GEMV), long enough for the
    // prefetchers, and taking one at a time leaves the two threads at most one item apart at the
    // end (runs of 4 tiles were 4% slower at k = 14336).
    // Tables are indexed by row of the chunk; outputs start at the chunk's first row.
    CpuArgs shifted = a;
    shifted.y = a.y + mc0 * s.n;
    // The table spans are claimed a batch at a time (about 16 a thread), on counters with cache
    // lines of their own, and each thread reports its spans done once. A span is about 100 ns of
    // work, and two atomics per span on one shared line kept the two cores trading that line: in one
    // process, 1.01-1.03x at m = 512 and 1.02x at m = 8, 2 bits (session 26).
    struct alignas(64) Counter {
      std::atomic<int64_t> v{0};
    };
    Counter next_span, spans_done, next;
    const int64_t batch = std::max<int64_t>(1, spans / (16 * threads));
    cpu::parallel_for(threads, threads, [&](int64_t, int64_t) {
      LutConsts local = lc;
      uint8_t* lanes = nullptr;
      if (fns.repack) local.row_lanes = lanes = static_cast<uint8_t*>(scratch_bytes<3>(size_t(fns.repack_bytes)));
      int64_t built = 0;
      for (;;) {
        const int64_t sp0 = next_span.v.fetch_add(batch, std::memory_order_relaxed);
        if (sp0 >= spans) break;
        const int64_t sp1 = std::min(sp0 + batch, spans);
        for (int64_t sp = sp0; sp < sp1; ++sp) build(sp / spans_per_row, mc0 + sp / spans_per_row, sp % spans_per_row);
        built += sp1 - sp0;
      }
      spans_done.v.fetch_add(built, std::memory_order_acq_rel);
      while (spans_done.v.load(std::memory_order_acquire) < spans) hwy::Pause();
      for (;;) {
        const int64_t it = next.v.fetch_add(1, std::memory_order_relaxed);
        if (it >= items) break;
        if (gemv) {
          const int64_t tile = it * gemv_tiles;
          if (lanes) fns.repack(a, tile, lc.blocks, lanes);
          for (int64_t m = 0; m < rows_here; ++m) {
            if (tile + gemv_tiles <= a.tiles) {
              fns.gemv(shifted, local, rows, tile, m);
            } else {
              for (int64_t t = tile; t < a.tiles; ++t) fns.single(shifted, local, rows, t, m);
            }
          }
          continue;
        }
        const int64_t tile = it / split * block_tiles, part = it % split;
        const int64_t tile_end = std::min(tile + block_tiles, a.tiles);
        const int64_t mb0 = mblocks * part / split, mb1 = mblocks * (part + 1) / split;
        if (lanes) fns.repack(a, tile, lc.blocks, lanes);
        for (int64_t mb = mb0; mb < mb1; ++mb) {
          const int64_t m0 = mb * kMB, count = std::min<int64_t>(kMB, rows_here - m0);
          if (count == kMB && tile_end - tile == block_tiles) {
            fns.block(shifted, local, rows, tile, m0);
          } else if (count == kMB) {
            for (int64_t t = tile; t < tile_end; ++t) fns.block_one(shifted, local, rows, t, m0);
          } else {
            for (int64_t t = tile; t < tile_end; ++t)
              for (int64_t m = m0; m < m0 + count; ++m) fns.single(shifted, local, rows, t, m);
          }
        }
      }
    });
  }
}

// Rows of X per chunk: their tables (row_bytes each) at most about 1 MiB, so they stay in L2 while
// every tile passes.
int64_t ChunkRows(const CpuArgs& a, int64_t row_bytes) {
  return a.chunk > 0 ? a.chunk : std::clamp<int64_t>((int64_t{1} << 20) / row_bytes / kMB * kMB, kMB, std::max<int64_t>(kMB, a.s.m));
}

#if HWY_TARGET != HWY_SCALAR
void Trit5Gemm(const CpuArgs& a) {
  const Shape& s = a.s;
  LutConsts lc;
  const int64_t len = s.fmt.group_len(s.k);
  lc.row_runs = quant::trit_bytes_per_row(s.fmt, s.k);
  lc.runs_per_group = quant::trit_runs(len);
  lc.blocks_per_group = (lc.runs_per_group + kTritRunsPerBlock - 1) / kTritRunsPerBlock;
  lc.blocks = a.groups * lc.blocks_per_group;  // the last group may use fewer
  const int64_t tbl_stride = lc.row_runs * kTrit5TableBytes;
  const int64_t chunk = ChunkRows(a, tbl_stride + lc.blocks * int64_t(sizeof(float)));
  auto* tbl = static_cast<uint8_t*>(scratch_bytes<0>(size_t(chunk * tbl_stride)));
  auto* tscale = static_cast<float*>(scratch_bytes<1>(size_t(chunk * lc.blocks) * sizeof(float)));
  const LutRows rows{tbl, tbl_stride, tscale, nullptr};
  // A span is one block's tables: up to 32 runs (160 activations) of one group of one row.
  SweepChunks(a, lc, PickTrit5Tiles(), rows, chunk, lc.blocks, [&](int64_t r, int64_t row, int64_t blk) {
    const int64_t g = blk / lc.blocks_per_group, b = blk % lc.blocks_per_group;
    const int64_t g0 = g * lc.runs_per_group, g1 = std::min(g0 + lc.runs_per_group, lc.row_runs);
    const int64_t j0 = g0 + b * kTritRunsPerBlock;
    if (j0 >= g1) return;  // a short last group has fewer blocks
    const int64_t runs = std::min(kTritRunsPerBlock, g1 - j0);
    const int64_t col0 = g * len + (j0 - g0) * quant::kTritsPerByte, col_end = std::min(s.k, (g + 1) * len);
    BuildTrit5Block(a, row, col0, col_end, runs, tbl + r * tbl_stride + j0 * kTrit5TableBytes, tscale + r * lc.blocks + blk);
  });
}
#else
void Trit5Gemm(const CpuArgs&) {}  // not reached: supports() declines ternary5 on the scalar target
#endif

void LutGemm(const CpuArgs& a) {
  const Shape& s = a.s;
  if (s.fmt.scheme == quant::Scheme::ternary5) return Trit5Gemm(a);
  const PlaneWeights pw = PlaneWeights::of(s.fmt);
  LutConsts lc;
  lc.pairs = s.fmt.bits / 2;
  lc.odd = s.fmt.bits % 2 != 0;
  int sum_c = 0;
  for (int b = 0; b < s.fmt.bits; ++b) {
    lc.c[b] = int8_t(pw.c[b]);
    sum_c += pw.c[b];
  }
  lc.quad_offset = 128 * sum_c;
  lc.w0 = pw.w0;
  lc.zeros = s.fmt.has_zeros();
  lc.blocks = (a.octets + kOctetsPerBlock - 1) / kOctetsPerBlock;
  lc.blocks_per_group = s.fmt.group == 0 ? lc.blocks : s.fmt.group / kLutBlock;

  TileFns fns{};
  switch (s.fmt.bits) {
    case 1: fns = PickTiles<0, true>(); break;
    case 2: fns = PickTiles<1, false>(); break;
    case 3: fns = PickTiles<1, true>(); break;
    default: fns = PickTiles<2, false>(); break;
  }
  // 1- and 2-bit weights with enough rows of X to pay for the repack go through row lanes (AVX3_DL).
  const bool row_lanes = kRowLanes && a.row_lanes && s.fmt.bits <= 2 && s.m >= RowLanesMinRows(s.fmt.bits);
  const int64_t quads = 2 * a.octets;
  const int64_t tbl_stride = row_lanes ? lc.blocks * 8 * 16 : quads * 16;
  const int64_t chunk = ChunkRows(a, tbl_stride + 2 * lc.blocks * int64_t(sizeof(float)));
  if (row_lanes) {
    // Where one chunk holds every row of X, each tile is swept once, so each item repacks its tile
    // into the thread's buffer (it stays in L2) just before its rows run, and the repacked W never
    // goes to memory. With several chunks, W is repacked once into a copy of its size that every
    // chunk reads. Alternating call by call (session 21, n = 4096): the per-item repack took 0.90x
    // the time of the whole copy at 1 bit, m = 8 and 16, 0.86-0.89x at 2 bits, m = 8 and 16 (k = 4096;
    // 0.75x at k = 14336), 0.98x at m = 64, but 1.04x at m = 512 (8 chunks of 64 rows: 8 repacks).
    fns = PickRowLaneTiles(s.fmt.bits);
    const int64_t tile_bytes = lc.blocks * RowLaneBlockBytes(s.fmt.bits);
    if (chunk >= s.m) {
      fns.repack = &RepackRowLanes;
      fns.repack_bytes = tile_bytes;
    } else {
      auto* packed = static_cast<uint8_t*>(scratch_bytes<4>(size_t(a.tiles * tile_bytes)));
      cpu::parallel_for(a.tiles, call_threads(a, cpu::hardware_threads()), [&](int64_t t0, int64_t t1) {
        for (int64_t t = t0; t < t1; ++t) RepackRowLanes(a, t, lc.blocks, packed + t * tile_bytes);
      });
      lc.row_lanes = packed;
      lc.row_lanes_tile_stride = tile_bytes;
    }
  }
  auto* tbl = static_cast<uint8_t*>(scratch_bytes<0>(size_t(chunk * tbl_stride)));
  auto* tscale = static_cast<float*>(scratch_bytes<1>(size_t(chunk * lc.blocks) * sizeof(float)));
  auto* bsum = static_cast<float*>(scratch_bytes<2>(size_t(chunk * lc.blocks) * sizeof(float)));
  // Row lanes close groups on their sums of x, summed here where every group lies inside one table
  // span (its blocks divide kSpanBlocks: spans start on a multiple of it); else the kernel sums them.
  constexpr int64_t kSpanBlocks = 8;
  float* gsum = row_lanes && kSpanBlocks % lc.blocks_per_group == 0
                    ? static_cast<float*>(scratch_bytes<5>(size_t(chunk * a.groups) * sizeof(float)))
                    : nullptr;
  LutRows rows{tbl, tbl_stride, tscale, bsum};
  rows.gsum = gsum;

  // Table work comes in spans of up to kSpanBlocks blocks (256 activations) of one row.
  const int64_t spans_per_row = (lc.blocks + kSpanBlocks - 1) / kSpanBlocks;
  SweepChunks(a, lc, fns, rows, chunk, spans_per_row, [&](int64_t r, int64_t row, int64_t span) {
    HWY_ALIGN float xf[kSpanBlocks * kLutBlock];
    const int64_t b0 = span * kSpanBlocks;
    const int64_t k0 = b0 * kLutBlock, nq = std::min(quads - 4 * b0 * 2, kSpanBlocks * kQuadsPerBlock);
    const int64_t len = kLutBlock * ((nq + kQuadsPerBlock - 1) / kQuadsPerBlock);
    // f32 spans inside k are read where they lie; a copy into xf first cost 4-7% at m = 512 (session 26).
    const float* xs = xf;
    if (a.s.act == DType::f32 && k0 + len <= a.s.k) xs = static_cast<const float*>(a.x) + row * a.s.k + k0;
    else ActivationSpan(a, row, k0, len, xf);
    BuildTables(xs, nq, tbl + r * tbl_stride + k0 / 4 * 16, tscale + r * lc.blocks + b0, bsum + r * lc.blocks + b0,
                row_lanes);
    if (gsum) {
      const int64_t b1 = std::min(b0 + kSpanBlocks, lc.blocks);
      for (int64_t g = b0 / lc.blocks_per_group; g * lc.blocks_per_group < b1; ++g) {
        float sx = 0;
        for (int64_t b = g * lc.blocks_per_group; b < std::min((g + 1) * lc.blocks_per_group, lc.blocks); ++b)
          sx += bsum[r * lc.blocks + b];
        gsum[r * a.groups + g] = sx;
      }
    }
  });
}

const char* LutTargetName() { return hwy::TargetName(HWY_TARGET); }

}  // namespace tessel::qgemm::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

// ---- Registration (compiled once) -----------------------------------------------------------------
#if HWY_ONCE
namespace tessel::qgemm {

HWY_EXPORT(LutGemm);
HWY_EXPORT(LutTargetName);
HWY_EXPORT(LutTernary5Ready);

const char* lut_target_name() { return HWY_DYNAMIC_DISPATCH(LutTargetName)(); }

namespace {

class CpuLut final : public Implementation {
 public:
  std::string name() const override { return "cpu.lut"; }
  std::string op() const override { return "qgemm"; }
  Device device() const override { return Device::cpu; }
  int priority() const override { return 20; }

  Support supports(const Problem& p) const override {
    const Shape s = Shape::from(p);
    if (s.fmt.scheme == quant::Scheme::ternary5) {
      if (!HWY_DYNAMIC_DISPATCH(LutTernary5Ready)())
        return Support::no_hardware(std::string("cpu.lut reads ternary5 with byte shuffles (SSE4 and up); this CPU runs the ") +
                                    lut_target_name() + " kernels: cpu.dequant serves it");
      return Support::yes();
    }
    if (!s.fmt.planar())
      return Support::no("cpu.lut needs bit-plane codes (int, uint, ternary) or ternary5; " +
                         std::string(quant::scheme_name(s.fmt.scheme)) + " codes are not linear in their bits: use cpu.dequant");
    if (s.fmt.bits > 4)
      return Support::no("cpu.lut handles 1..4-bit codes (a 16-entry table per 4 weights); " + std::to_string(s.fmt.bits) +
                         "-bit weights go to cpu.dequant");
    return Support::yes();
  }

  std::vector<Tunable> config_space(const Problem&) const override {
    // chunk: rows of X whose tables are built and then swept over every tile together (0: ~1 MiB).
    // row_lanes: 1 = 1- and 2-bit weights repacked into row lanes for several rows of X on AVX3_DL
    // (see LutRowLanesTile), 0 = the planar kernels always.
    return {{"chunk", {0, 4, 16, 64, 256}}, {"row_lanes", {1, 0}}};
  }

  Status run(const Problem& p, const Config& config, std::span<const TensorView> t, const RunContext& ctx) const override {
    CpuArgs a;
    TESSEL_RETURN_IF_ERROR(CpuArgs::decode(p, config, t, ctx, "cpu.lut", &a));
    const Support sup = supports(p);
    if (!sup.ok) return Status::unsupported("qgemm", "cpu.lut", sup.reason);
    HWY_DYNAMIC_DISPATCH(LutGemm)(a);
    return {};
  }
};

}  // namespace

void register_cpu_lut(Registry& r) { r.add_impl(std::make_unique<CpuLut>()); }

}  // namespace tessel::qgemm
#endif  // HWY_ONCE
