// qgemm "cpu.dequant": every format, dequantized to f32 in cache-sized pieces, then f32 FMA.
//
// No activation quantization: the products are f32, so this is the precise route, and the one for
// formats a table lookup cannot serve (5..8-bit codes, whose tables would need more than 16
// entries, and the block formats, whose element codes are not linear in their bits).
//  - Planar codes: per 64-row tile and 32 weights of K, the bit planes become an f32 panel
//    [32][64] (pmaddubsw adds two planes' weights at once, as in cpu.lut), and every row of X then
//    sweeps the panel with FMAs, rows of the tile in vector lanes.
//  - Block formats: per row of W, the elements of each block become f32 times the block scale, and
//    every row of X takes a dot product with them. FP4 bytes split into even and odd elements, so
//    X is split the same way once per call instead of interleaving every weight.
//  - ternary5 goes as the block formats, a byte's five weights from a table of their values (the
//    route where cpu.lut's ternary5 kernels, SSE4 and up, are missing).

// ---- Shared, target-independent part (compiled once) ---------------------------------------------
#ifndef TESSEL_OPS_QGEMM_CPU_DEQUANT_SHARED_
#define TESSEL_OPS_QGEMM_CPU_DEQUANT_SHARED_

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "cpu_common.hpp"
#include "tessel/cpu/parallel.hpp"
#include "tessel/runtime/registry.hpp"

namespace tessel::qgemm {

inline constexpr int64_t kPanelK = 32;  // weights of K per dequantized panel

inline int64_t round_up(int64_t x, int64_t m) { return (x + m - 1) / m * m; }

}  // namespace tessel::qgemm

#endif  // TESSEL_OPS_QGEMM_CPU_DEQUANT_SHARED_

// ---- Per-target part (compiled once for every Highway target) -------------------------------------
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "ops/qgemm/cpu_dequant.cpp"
#include "hwy/foreach_target.h"  // IWYU pragma: keep
#include "hwy/highway.h"
#include "ops/qgemm/simd-inl.h"

HWY_BEFORE_NAMESPACE();
namespace tessel::qgemm::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

using DF = hn::ScalableTag<float>;
using VF = hn::Vec<DF>;
constexpr int64_t kLF = int64_t(hn::MaxLanes(DF()));  // f32 lanes
constexpr int kVecPerTile = int(quant::kTileRows / kLF);
// Rows of X per sweep of a panel: their accumulators (kVecPerTile each) stay in registers.
constexpr int kMB = kVecPerTile <= 4 ? 4 : 1;

// ---- Planar: bit planes -> f32 panel ------------------------------------------------------------------

#if HWY_TARGET != HWY_SCALAR

using D8 = hn::ScalableTag<uint8_t>;
using D16 = hn::ScalableTag<int16_t>;
using DU16 = hn::RebindToUnsigned<D16>;
using DI32 = hn::Repartition<int32_t, D16>;
using DF16 = hn::Repartition<float, D16>;
constexpr int64_t kV = int64_t(hn::MaxLanes(D8()));
constexpr int kAcc = int(128 / kV);

// Values of the 8 weights of octet `wo` for the 64 rows, as f32 into panel[t][row].
template <int P, bool ODD>
HWY_INLINE void DecodeOctet(const uint8_t* HWY_RESTRICT wo, const int (&pc)[8], int w0, float* HWY_RESTRICT panel) {
  const D8 d8;
  const D16 d16;
  const DU16 du16;
  const DI32 di32;
  const DF16 df;
  const hn::Half<D16> dh16;
  constexpr int64_t L16 = kV / 2, L32 = kV / 4;
  using VU16 = hn::Vec<DU16>;
  // Each pair's two plane weights as multiples of 4^j (|pc| <= 2 fits pmaddubsw's signed bytes;
  // the shift by 2j restores them, 8-bit top plane included).
  hn::Vec<hn::Repartition<int8_t, D16>> cp[P > 0 ? P : 1];
  for (int j = 0; j < P; ++j) cp[j] = PairOf(d16, pc[2 * j], pc[2 * j + 1]);
  const auto ce = PairOf(d16, ODD ? pc[2 * P] : 0, 0), co = PairOf(d16, 0, ODD ? pc[2 * P] : 0);
  VU16 planes[P > 0 ? P : 1][kAcc];
  VU16 odd[kAcc / 2];
  for (int j = 0; j < P; ++j)
    for (int i = 0; i < kAcc; ++i) planes[j][i] = hn::BitCast(du16, hn::LoadU(d8, wo + j * 128 + i * kV));
  if constexpr (ODD)
    for (int i = 0; i < kAcc / 2; ++i) odd[i] = hn::BitCast(du16, hn::LoadU(d8, wo + P * 128 + i * kV));
  const VU16 ones = hn::Set(du16, 0x0101);
  for (int t = 0; t < 8; ++t) {
    hn::Vec<D16> val[kAcc];
    for (int i = 0; i < kAcc; ++i) val[i] = hn::Set(d16, int16_t(w0));
    for (int j = 0; j < P; ++j)
      for (int i = 0; i < kAcc; ++i) {
        const auto bits = hn::BitCast(d8, hn::And(hn::ShiftRightSame(planes[j][i], t), ones));
        val[i] = hn::Add(val[i], hn::ShiftLeftSame(MulPairs(d16, bits, cp[j]), 2 * j));
      }
    if constexpr (ODD)
      for (int i = 0; i < kAcc / 2; ++i) {
        const auto bits = hn::BitCast(d8, hn::And(hn::ShiftRightSame(odd[i], t), ones));
        val[i] = hn::Add(val[i], hn::ShiftLeftSame(MulPairs(d16, bits, ce), 2 * P));
        val[i + kAcc / 2] = hn::Add(val[i + kAcc / 2], hn::ShiftLeftSame(MulPairs(d16, bits, co), 2 * P));
      }
    float* row = panel + t * quant::kTileRows;
    for (int i = 0; i < kAcc; ++i) {
      hn::Store(hn::ConvertTo(df, hn::PromoteTo(di32, hn::LowerHalf(dh16, val[i]))), df, row + i * L16);
      hn::Store(hn::ConvertTo(df, hn::PromoteTo(di32, hn::UpperHalf(dh16, val[i]))), df, row + i * L16 + L32);
    }
  }
}

#else  // HWY_SCALAR

template <int P, bool ODD>
HWY_INLINE void DecodeOctet(const uint8_t* HWY_RESTRICT wo, const int (&pc)[8], int w0, float* HWY_RESTRICT panel) {
  constexpr int B = 2 * P + (ODD ? 1 : 0);
  for (int r = 0; r < quant::kTileRows; ++r) {
    uint8_t bytes[8];
    for (int b = 0; b < B; ++b)
      bytes[b] = wo[b < 2 * P ? (b / 2) * 128 + 16 * (r / 8) + 2 * (r % 8) + (b % 2)
                              : int64_t(B - 1) * 64 + 16 * ((r % 32) / 8) + 2 * (r % 8) + r / 32];
    for (int t = 0; t < 8; ++t) {
      int v = w0;
      for (int b = 0; b < B; ++b) v += ((bytes[b] >> t) & 1) * pc[b] * (1 << (2 * (b / 2)));
      panel[t * quant::kTileRows + r] = float(v);
    }
  }
}

#endif  // HWY_TARGET != HWY_SCALAR

// gacc[m][row] += sum over the panel's `len` weights of panel[k][row] * x[m][k], for MB rows of X.
template <int MB>
HWY_INLINE void SweepPanel(const float* HWY_RESTRICT panel, int64_t len, const float* HWY_RESTRICT x, int64_t ldx,
                           float* HWY_RESTRICT gacc) {
  const DF df;
  VF acc[MB][kVecPerTile];
  for (int m = 0; m < MB; ++m)
    for (int i = 0; i < kVecPerTile; ++i) acc[m][i] = hn::Zero(df);
  for (int64_t kk = 0; kk < len; ++kk) {
    const float* prow = panel + kk * quant::kTileRows;
    for (int i = 0; i < kVecPerTile; ++i) {
      const VF w = hn::Load(df, prow + i * kLF);
      for (int m = 0; m < MB; ++m) acc[m][i] = hn::MulAdd(w, hn::Set(df, x[m * ldx + kk]), acc[m][i]);
    }
  }
  for (int m = 0; m < MB; ++m)
    for (int i = 0; i < kVecPerTile; ++i) {
      float* g = gacc + m * quant::kTileRows + i * kLF;
      hn::Store(hn::Add(hn::Load(df, g), acc[m][i]), df, g);
    }
}

struct PlanarChunk {
  const float* x = nullptr;     // [rows][padded k], f32, zero past k
  int64_t ldx = 0, rows = 0;
  const float* xsum = nullptr;  // [rows][groups] (uint only)
};

template <int P, bool ODD>
void PlanarTile(const CpuArgs& a, const PlanarChunk& c, int64_t tile, float* HWY_RESTRICT gacc, float* HWY_RESTRICT yacc) {
  const DF df;
  constexpr int B = 2 * P + (ODD ? 1 : 0);
  const PlaneWeights pw = PlaneWeights::of(a.s.fmt);
  int pc[8] = {};
  for (int b = 0; b < B; ++b) pc[b] = pw.c[b] / (1 << (2 * (b / 2)));
  const bool zeros = a.s.fmt.has_zeros();
  const int64_t octets_per_group = a.s.fmt.group == 0 ? a.octets : a.s.fmt.group / quant::kOctet;
  HWY_ALIGN float panel[kPanelK * quant::kTileRows];
  HWY_ALIGN float s[quant::kTileRows], z[quant::kTileRows];
  std::fill(gacc, gacc + c.rows * quant::kTileRows, 0.0f);
  std::fill(yacc, yacc + c.rows * quant::kTileRows, 0.0f);
  const uint8_t* wt = a.w + tile * a.octets * B * quant::kTileRows;
  for (int64_t o0 = 0; o0 < a.octets; o0 += kPanelK / quant::kOctet) {
    const int64_t o1 = std::min(a.octets, o0 + kPanelK / quant::kOctet);
    for (int64_t o = o0; o < o1; ++o)
      DecodeOctet<P, ODD>(wt + o * B * quant::kTileRows, pc, pw.w0, panel + (o - o0) * quant::kOctet * quant::kTileRows);
    const int64_t len = (o1 - o0) * quant::kOctet, k0 = o0 * quant::kOctet;
    int64_t m = 0;
    for (; m + kMB <= c.rows; m += kMB)
      SweepPanel<kMB>(panel, len, c.x + m * c.ldx + k0, c.ldx, gacc + m * quant::kTileRows);
    for (; m < c.rows; ++m) SweepPanel<1>(panel, len, c.x + m * c.ldx + k0, c.ldx, gacc + m * quant::kTileRows);
    if (o1 % octets_per_group == 0 || o1 == a.octets) {
      const int64_t g = o0 / octets_per_group;
      LoadTileGroup(df, a, a.scales, tile, g, s);
      if (zeros) LoadTileGroup(df, a, a.zeros, tile, g, z);
      for (int64_t mm = 0; mm < c.rows; ++mm) {
        float* gm = gacc + mm * quant::kTileRows;
        float* ym = yacc + mm * quant::kTileRows;
        const VF xs = hn::Set(df, zeros ? c.xsum[mm * a.groups + g] : 0.0f);
        for (int64_t r = 0; r < quant::kTileRows; r += kLF) {
          VF v = hn::Load(df, gm + r);
          if (zeros) v = hn::NegMulAdd(hn::Load(df, z + r), xs, v);
          hn::Store(hn::MulAdd(hn::Load(df, s + r), v, hn::Load(df, ym + r)), df, ym + r);
          hn::Store(hn::Zero(df), df, gm + r);
        }
      }
    }
  }
}

using PlanarFn = void (*)(const CpuArgs&, const PlanarChunk&, int64_t, float*, float*);

void DequantPlanar(const CpuArgs& a, int threads) {
  const Shape& s = a.s;
  PlanarFn fn = nullptr;
  switch (s.fmt.bits) {
    case 1: fn = &PlanarTile<0, true>; break;
    case 2: fn = &PlanarTile<1, false>; break;
    case 3: fn = &PlanarTile<1, true>; break;
    case 4: fn = &PlanarTile<2, false>; break;
    case 5: fn = &PlanarTile<2, true>; break;
    case 6: fn = &PlanarTile<3, false>; break;
    case 7: fn = &PlanarTile<3, true>; break;
    default: fn = &PlanarTile<4, false>; break;
  }
  const int64_t ldx = a.octets * quant::kOctet;
  // Rows of X per chunk: their f32 copies stay within about 1 MiB.
  const int64_t chunk = a.chunk > 0 ? a.chunk : std::clamp<int64_t>((int64_t{1} << 20) / (ldx * 4), 1, std::min<int64_t>(s.m, 256));
  auto* x = static_cast<float*>(scratch_bytes<4>(size_t(chunk * ldx) * sizeof(float)));
  auto* xsum = static_cast<float*>(scratch_bytes<5>(size_t(chunk * a.groups) * sizeof(float)));
  const int64_t group_len = s.fmt.group_len(s.k);
  for (int64_t mc0 = 0; mc0 < s.m; mc0 += chunk) {
    const int64_t rows = std::min(chunk, s.m - mc0);
    for (int64_t r = 0; r < rows; ++r) {
      float* xr = x + r * ldx;
      activation_row(a, mc0 + r, xr, ldx);
      for (int64_t g = 0; g < a.groups; ++g) {
        float sum = 0;
        for (int64_t kk = g * group_len; kk < std::min(s.k, (g + 1) * group_len); ++kk) sum += xr[kk];
        xsum[r * a.groups + g] = sum;
      }
    }
    const PlanarChunk c{x, ldx, rows, xsum};
    cpu::parallel_for(a.tiles, threads, [&](int64_t t0, int64_t t1) {
      auto* acc = static_cast<float*>(scratch_bytes<6>(size_t(2 * rows * quant::kTileRows) * sizeof(float)));
      float* gacc = acc;
      float* yacc = acc + rows * quant::kTileRows;
      for (int64_t tile = t0; tile < t1; ++tile) {
        fn(a, c, tile, gacc, yacc);
        const int64_t n0 = tile * quant::kTileRows, valid = std::min(quant::kTileRows, s.n - n0);
        for (int64_t r = 0; r < rows; ++r)
          std::memcpy(a.y + (mc0 + r) * s.n + n0, yacc + r * quant::kTileRows, size_t(valid) * sizeof(float));
      }
    });
  }
}

// ---- Block formats: one row of W at a time ------------------------------------------------------------

// e2m1 codes (in 32-bit lanes) to f32, by building the bits: s.ee.m -> (-1)^s 1.m * 2^(ee-1), and
// ee = 0 -> m * 0.5.
template <class DU32>
HWY_INLINE hn::Vec<hn::Repartition<float, DU32>> Fp4ToF32(DU32 du, hn::Vec<DU32> c) {
  const auto e = hn::And(hn::ShiftRight<1>(c), hn::Set(du, 3u));
  const auto m = hn::And(c, hn::Set(du, 1u));
  const auto normal = hn::Or(hn::ShiftLeft<23>(hn::Add(e, hn::Set(du, 126u))), hn::ShiftLeft<22>(m));
  const auto sub = hn::Mul(m, hn::Set(du, 0x3f000000u));
  const auto mag = hn::IfThenElse(hn::Eq(e, hn::Zero(du)), sub, normal);
  const auto bits = hn::Or(mag, hn::ShiftLeft<28>(hn::And(c, hn::Set(du, 8u))));
  return hn::BitCast(hn::Repartition<float, DU32>(), bits);
}

// One FP4 block of `bytes` bytes (bs/2), scaled: even elements to we, odd ones to wo.
template <int64_t kHalf>
HWY_INLINE void DecodeFp4Block(const uint8_t* HWY_RESTRICT src, float scale, float* HWY_RESTRICT we, float* HWY_RESTRICT wo) {
  const hn::CappedTag<float, kHalf> dc;
  const hn::Rebind<uint32_t, decltype(dc)> du;
  const hn::Rebind<uint8_t, decltype(dc)> d8;
  const auto vs = hn::Set(dc, scale);
  for (int64_t i = 0; i < kHalf; i += int64_t(hn::Lanes(dc))) {
    const auto c = hn::PromoteTo(du, hn::LoadU(d8, src + i));
    hn::StoreU(hn::Mul(Fp4ToF32(du, hn::And(c, hn::Set(du, 15u))), vs), dc, we + i);
    hn::StoreU(hn::Mul(Fp4ToF32(du, hn::ShiftRight<4>(c)), vs), dc, wo + i);
  }
}

HWY_INLINE void DecodeInt8Block(const uint8_t* HWY_RESTRICT src, float scale, float* HWY_RESTRICT w) {
  const hn::CappedTag<float, 32> dc;
  const hn::Rebind<int32_t, decltype(dc)> di;
  const hn::Rebind<int8_t, decltype(dc)> d8;
  const auto vs = hn::Set(dc, scale * (1.0f / 64));
  const auto* s8 = reinterpret_cast<const int8_t*>(src);
  for (int64_t i = 0; i < 32; i += int64_t(hn::Lanes(dc)))
    hn::StoreU(hn::Mul(hn::ConvertTo(dc, hn::PromoteTo(di, hn::LoadU(d8, s8 + i))), vs), dc, w + i);
}

// sum a[i] * b[i] over len (a multiple of 4 vectors).
HWY_INLINE float Dot(const float* HWY_RESTRICT a, const float* HWY_RESTRICT b, int64_t len) {
  const DF df;
  VF s0 = hn::Zero(df), s1 = hn::Zero(df), s2 = hn::Zero(df), s3 = hn::Zero(df);
  for (int64_t i = 0; i < len; i += 4 * kLF) {
    s0 = hn::MulAdd(hn::Load(df, a + i), hn::Load(df, b + i), s0);
    s1 = hn::MulAdd(hn::Load(df, a + i + kLF), hn::Load(df, b + i + kLF), s1);
    s2 = hn::MulAdd(hn::Load(df, a + i + 2 * kLF), hn::Load(df, b + i + 2 * kLF), s2);
    s3 = hn::MulAdd(hn::Load(df, a + i + 3 * kLF), hn::Load(df, b + i + 3 * kLF), s3);
  }
  return hn::GetLane(hn::SumOfLanes(df, hn::Add(hn::Add(s0, s1), hn::Add(s2, s3))));
}

void DequantBlocks(const CpuArgs& a, int threads) {
  const Shape& s = a.s;
  const bool fp4 = s.fmt.bits == 4;
  const int64_t bs = s.fmt.group, blocks = s.fmt.groups(s.k);
  const int64_t row_bytes = fp4 ? (s.k + 1) / 2 : s.k;
  const int64_t block_bytes = fp4 ? bs / 2 : bs;
  // FP4: even and odd elements, each half a row, padded; int8: whole rows, padded. Padding is zero
  // in X, so whatever the padded weights decode to never counts.
  const int64_t half = round_up(blocks * block_bytes, 4 * kLF);  // elements per part
  const int parts = fp4 ? 2 : 1;
  const int64_t ldx = parts * half;
  const int64_t chunk = a.chunk > 0 ? a.chunk : std::clamp<int64_t>((int64_t{1} << 20) / (ldx * 4), 1, std::min<int64_t>(s.m, 256));
  auto* x = static_cast<float*>(scratch_bytes<4>(size_t(chunk * ldx) * sizeof(float)));
  auto* xrow = static_cast<float*>(scratch_bytes<5>(size_t(round_up(s.k, 2)) * sizeof(float)));
  const auto& scale_table = s.fmt.scheme == quant::Scheme::nvfp4 ? e4m3_table() : e8m0_table();
  const float global = s.fmt.has_global_scale() ? a.global_scale : 1.0f;
  const auto* sc = static_cast<const uint8_t*>(a.scales);
  for (int64_t mc0 = 0; mc0 < s.m; mc0 += chunk) {
    const int64_t rows = std::min(chunk, s.m - mc0);
    for (int64_t r = 0; r < rows; ++r) {
      float* dst = x + r * ldx;
      std::fill(dst, dst + ldx, 0.0f);
      activation_row(a, mc0 + r, xrow, round_up(s.k, 2));
      if (fp4) {
        for (int64_t i = 0; i < s.k; ++i) dst[(i % 2) * half + i / 2] = xrow[i];
      } else {
        std::memcpy(dst, xrow, size_t(s.k) * sizeof(float));
      }
    }
    cpu::parallel_for(s.n, threads, [&](int64_t n0, int64_t n1) {
      auto* w = static_cast<float*>(scratch_bytes<6>(size_t(ldx) * sizeof(float)));
      std::fill(w, w + ldx, 0.0f);
      HWY_ALIGN uint8_t tail[32] = {};
      for (int64_t n = n0; n < n1; ++n) {
        const uint8_t* row = a.w + n * row_bytes;
        for (int64_t b = 0; b < blocks; ++b) {
          const float scale = scale_table[sc[n * blocks + b]] * global;
          const uint8_t* src = row + b * block_bytes;
          if ((b + 1) * block_bytes > row_bytes) {
            // The ragged last block: decode from a zero-padded copy, never past the row.
            std::memset(tail, 0, sizeof tail);
            std::memcpy(tail, src, size_t(row_bytes - b * block_bytes));
            src = tail;
          }
          if (!fp4) DecodeInt8Block(src, scale, w + b * bs);
          else if (bs == 16) DecodeFp4Block<8>(src, scale, w + b * 8, w + half + b * 8);
          else DecodeFp4Block<16>(src, scale, w + b * 16, w + half + b * 16);
        }
        for (int64_t r = 0; r < rows; ++r) a.y[(mc0 + r) * s.n + n] = Dot(w, x + r * ldx, ldx);
      }
    });
  }
}

// ternary5: one row of W at a time, as the block formats. Each byte's five weights come from a table
// of their f32 values (8 floats a byte, the last 3 zero) times the group's scale, written 8 at a
// time: the 3 extra floats land where the next run (or group) writes next. Scalar decoding (a digit
// loop per weight) took 8.4 ms for a 4096 x 4096 GEMV, where this route's planar one takes 0.73.
void DequantTrit5(const CpuArgs& a, int threads) {
  struct Table {
    HWY_ALIGN float v[256][8];
  };
  static const Table table = [] {
    Table t{};
    for (int b = 0; b < 256; ++b)
      for (int i = 0; i < quant::kTritsPerByte; ++i) t.v[b][i] = float(quant::trits_of(uint8_t(b)).d[i]);
    return t;
  }();
  const Shape& s = a.s;
  const hn::CappedTag<float, 8> d8;
  const int64_t L8 = int64_t(hn::Lanes(d8));
  const int64_t ldx = round_up(s.k, 4 * kLF), len = s.fmt.group_len(s.k);
  const int64_t row_runs = quant::trit_bytes_per_row(s.fmt, s.k), runs_per_group = quant::trit_runs(len);
  const int64_t chunk = a.chunk > 0 ? a.chunk : std::clamp<int64_t>((int64_t{1} << 20) / (ldx * 4), 1, std::min<int64_t>(s.m, 256));
  auto* x = static_cast<float*>(scratch_bytes<4>(size_t(chunk * ldx) * sizeof(float)));
  for (int64_t mc0 = 0; mc0 < s.m; mc0 += chunk) {
    const int64_t rows = std::min(chunk, s.m - mc0);
    for (int64_t r = 0; r < rows; ++r) activation_row(a, mc0 + r, x + r * ldx, ldx);
    cpu::parallel_for(s.n, threads, [&](int64_t n0, int64_t n1) {
      auto* w = static_cast<float*>(scratch_bytes<6>(size_t(ldx + 8) * sizeof(float)));
      std::fill(w, w + ldx + 8, 0.0f);
      for (int64_t n = n0; n < n1; ++n) {
        const int64_t tile = n / quant::kTileRows, rr = n % quant::kTileRows;
        const uint8_t* bytes = a.w + tile * row_runs * quant::kTileRows + quant::trit_lane(rr);
        for (int64_t g = 0; g < a.groups; ++g) {
          const auto vs = hn::Set(d8, float(quant::load_scale(s.fmt, a.scales, quant::scale_index(s.fmt, s.k, n, g))));
          const int64_t c1 = std::min(s.k, (g + 1) * len);
          for (int64_t c = g * len, run = g * runs_per_group; c < c1; c += quant::kTritsPerByte, ++run) {
            const float* src = table.v[bytes[run * quant::kTileRows]];
            for (int64_t i = 0; i < 8; i += L8) hn::StoreU(hn::Mul(hn::Load(d8, src + i), vs), d8, w + c + i);
          }
        }
        // The last run's extra floats past k: X is zero there, but a non-finite scale times zero is not.
        std::fill(w + s.k, w + s.k + 8, 0.0f);
        for (int64_t r = 0; r < rows; ++r) a.y[(mc0 + r) * s.n + n] = Dot(w, x + r * ldx, ldx);
      }
    });
  }
}

void DequantGemm(const CpuArgs& a) {
  const int threads = call_threads(a, cpu::hardware_threads());
  if (a.s.fmt.planar()) DequantPlanar(a, threads);
  else if (a.s.fmt.scheme == quant::Scheme::ternary5) DequantTrit5(a, threads);
  else DequantBlocks(a, threads);
}

const char* DequantTargetName() { return hwy::TargetName(HWY_TARGET); }

}  // namespace tessel::qgemm::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

// ---- Registration (compiled once) -----------------------------------------------------------------
#if HWY_ONCE
namespace tessel::qgemm {

HWY_EXPORT(DequantGemm);
HWY_EXPORT(DequantTargetName);

const char* dequant_target_name() { return HWY_DYNAMIC_DISPATCH(DequantTargetName)(); }

namespace {

class CpuDequant final : public Implementation {
 public:
  std::string name() const override { return "cpu.dequant"; }
  std::string op() const override { return "qgemm"; }
  Device device() const override { return Device::cpu; }
  int priority() const override { return 10; }
  Support supports(const Problem&) const override { return Support::yes(); }

  std::vector<Tunable> config_space(const Problem&) const override {
    // Rows of X converted to f32 and swept over every tile together (0: ~1 MiB of them).
    return {{"chunk", {0, 4, 16, 64, 256}}};
  }

  Status run(const Problem& p, const Config& config, std::span<const TensorView> t, const RunContext& ctx) const override {
    CpuArgs a;
    TESSEL_RETURN_IF_ERROR(CpuArgs::decode(p, config, t, ctx, "cpu.dequant", &a));
    HWY_DYNAMIC_DISPATCH(DequantGemm)(a);
    return {};
  }
};

}  // namespace

void register_cpu_dequant(Registry& r) { r.add_impl(std::make_unique<CpuDequant>()); }

}  // namespace tessel::qgemm
#endif  // HWY_ONCE
