// qgemm "cpu.idot": int/uint weights of 2..8 bits, and the MX block formats (mxint8, mxfp4), as u8
// codes; activations as int8; integer dot (VNNI).
//
// The route for 5..8-bit weights, whose tables would be too large for cpu.lut, and for prefill
// (large m), where one decoded panel of weights serves many rows of X at 64 multiply-adds per
// instruction instead of 16 f32 FMAs:
//  - Activations: every 32 of a row become int8 with one step d = max|x| / 127 per 32 (round to
//    nearest even). The spec's tolerance for 5..8-bit weights follows from this (spec.cpp).
//  - Weights: per 64-row tile and 32 weights of K, the bit planes become u8 codes (signed codes
//    offset by c = 2^(b-1), so u = q + c fits a byte) in a panel laid out for vpdpbusd:
//    [8 quads][64 rows][4 bytes], so one 32-bit lane holds 4 consecutive weights of one row.
//  - Dot: per row of X and quad, the 4 int8 activations are broadcast to every lane and
//    vpdpbusd (AVX512-VNNI, on Highway's AVX3_DL target) adds u * xq into one int32 per row;
//    without VNNI (AVX-512 without it, AVX2, SSE4) pmaddubsw does for codes below 128 (DotSpanPairs)
//    and an exact emulation (pmaddwd on even and odd bytes) for 8-bit codes. Per 32
//    weights: int32 - c * sum(xq) (centred codes, see IdotTile), times d, into f32; per group,
//    times the weight scales (minus (z - c) * sum x for uint, with the exact f32 sum of x).
//  - MX blocks (row-major, 32 elements and one E8M0 scale per block): each element's integer value
//    (mxint8's q, mxfp4's 2 * fp4(q), both exact) becomes a u8 code in the same panel, and the block
//    is a group of its own, scaled by 2^(e-127) / 64 or / 2 (IdotTileBlocks). With up to four rows
//    of X on AVX3_DL (and AVX2 with AVX-VNNI) there is no panel: W's rows are dotted where they lie
//    (MxGemv).
// An int32 never overflows: per 32 weights |sum| <= 32 * 255 * 127 < 2^21.

// ---- Shared, target-independent part (compiled once) ---------------------------------------------
#ifndef TESSEL_OPS_QGEMM_CPU_IDOT_SHARED_
#define TESSEL_OPS_QGEMM_CPU_IDOT_SHARED_

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>

#include "cpu_common.hpp"
#include "tessel/cpu/parallel.hpp"
#include "tessel/runtime/registry.hpp"

namespace tessel::qgemm {

inline constexpr int64_t kIdotBlock = 32;                          // activations per int8 step
inline constexpr int64_t kIdotPanelBytes = 8 * quant::kTileRows * 4;  // 8 quads x 64 rows x 4 codes
// Blocks decoded together and swept with their sums in registers (IdotTile, DotSpan): 128 weights,
// the usual group, so a group's sums are stored once; 8 KiB of panels.
inline constexpr int64_t kIdotSpanBlocks = 4;
inline constexpr int64_t kIdotChunkRows = 256;  // rows of X a chunk by default (IdotGemm; 512: 0.97-1.00x)
// Without VNNI (DotSpanPairs): the quads whose pmaddubsw pairs add up in int16 before pmaddwd widens
// them, for codes up to umax. Each quad adds at most 2 * umax * 127 to a lane (2-bit codes 762, so a
// block's 8 quads; 7-bit ones 32258, so one). 0: the codes reach 128 or more (8 bits, mxint8), which
// pmaddubsw would saturate.
inline constexpr int PairQuads(int umax) { return umax >= 128 ? 0 : 32767 / (2 * umax * 127); }

// A chunk of rows of X, quantized, block-major: the 32 int8 values of row m's block b are at
// xq + b * block_stride + m * 32 (block_stride = rows * 32; zero past k). A block's rows are
// contiguous because DotSpan sweeps the chunk's rows through a block a few at a time: row-major
// (rows k bytes apart) put each row's next quad in a line of its own, 4 KiB apart at k = 4096, which
// the sweep evicted before the next block came back to it.
struct IdotRows {
  const int8_t* xq = nullptr;
  int64_t block_stride = 0, rows = 0, blocks = 0;
  const float* step = nullptr;    // [rows][blocks]: d per 32 (NaN when the block holds inf/NaN)
  const int32_t* qsum = nullptr;  // [rows][blocks]: sum of the block's int8 values
  const float* xsum = nullptr;    // [rows][groups]: exact f32 sum of x per group (uint only)
  int64_t groups = 0;
  // nvfp4 (whose weights are scaled per 16): activations quantized per 16, step and qsum per half
  // block, [rows][2 * blocks]; step and qsum above are then null.
  const float* step16 = nullptr;
  const int32_t* qsum16 = nullptr;
  bool avx_vnni = false;          // AVX2 target: the dots by VEX vpdpbusd (IdotGemm decides, per call)
};

}  // namespace tessel::qgemm

#endif  // TESSEL_OPS_QGEMM_CPU_IDOT_SHARED_

// ---- Per-target part (compiled once for every Highway target) -------------------------------------
// AVX3_DL (AVX-512 with VNNI, VBMI2, ...) is opt-in in Highway 1.0; this file wants it for vpdpbusd.
#ifndef HWY_WANT_AVX3_DL
#define HWY_WANT_AVX3_DL
#endif
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "ops/qgemm/cpu_idot.cpp"
#include "hwy/foreach_target.h"  // IWYU pragma: keep
#include "hwy/highway.h"
#include "ops/qgemm/simd-inl.h"

HWY_BEFORE_NAMESPACE();
namespace tessel::qgemm::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

using DF = hn::ScalableTag<float>;

#if HWY_TARGET != HWY_SCALAR

using D8 = hn::ScalableTag<uint8_t>;
using D16 = hn::ScalableTag<int16_t>;
using DU16 = hn::RebindToUnsigned<D16>;
using DI32 = hn::ScalableTag<int32_t>;
using DU32 = hn::ScalableTag<uint32_t>;
using VI32 = hn::Vec<DI32>;
constexpr int64_t kV = int64_t(hn::MaxLanes(D8()));
constexpr int kAcc = int(128 / kV);                      // int16 vectors per 64 rows
constexpr int64_t kL32 = int64_t(hn::MaxLanes(DI32()));  // rows per int32 vector
constexpr int kVecPerTile = int(quant::kTileRows / kL32);
// Rows of X per DotSpan (AVX3_DL takes them three at a time through DotSpanTriple first).
constexpr int kMB = kVecPerTile <= 4 ? 2 : 1;

// ---- u8 x s8 dot of 4 bytes per 32-bit lane -------------------------------------------------------

// Four int8 activations broadcast to every lane, and (for the emulation) their even and odd bytes
// sign-extended to int16.
struct XQuad {
  VI32 x, even, odd;
};

HWY_INLINE XQuad BroadcastQuad(const int8_t* HWY_RESTRICT q) {
  const DI32 d;
  const D16 d16;
  int32_t v;
  std::memcpy(&v, q, 4);
  const auto x = hn::Set(d, v);
  const auto x16 = hn::BitCast(d16, x);
  return {x, hn::BitCast(d, hn::ShiftRight<8>(hn::ShiftLeft<8>(x16))), hn::BitCast(d, hn::ShiftRight<8>(x16))};
}

// acc + sum over the 4 bytes of each lane of u8(w) * s8(x): vpdpbusd, or exactly the same with
// pmaddwd on the even and odd bytes (each product fits int16; each pmaddwd pair sum fits int32).
// kAvxVnni (AVX2 target only): the CPU has AVX-VNNI, vpdpbusd in its VEX form on 256-bit vectors
// (Alder Lake and later, Sapphire Rapids), chosen at run time by the caller.
template <bool kAvxVnni = false>
HWY_INLINE VI32 DotQuad(VI32 acc, VI32 w, const XQuad& x) {
#if HWY_TARGET == HWY_AVX2
  if constexpr (kAvxVnni) {
    // Not in Highway's AVX2 flags either; "%{vex%}" asks the assembler for the VEX encoding (the
    // braces escaped from the asm dialect syntax), which addresses ymm0..15 only ("x").
    __m256i r = acc.raw;
    asm("%{vex%} vpdpbusd %2, %1, %0" : "+x"(r) : "x"(w.raw), "x"(x.x.raw));
    return VI32{r};
  }
#endif
#if HWY_TARGET == HWY_AVX3_DL
  // Highway's AVX3_DL flags lack avx512vnni (its runtime check requires VNNI), so the intrinsic
  // would not compile here: the instruction is written directly. acc += u8(w) . s8(x) per lane.
  __m512i r = acc.raw;
  asm("vpdpbusd %2, %1, %0" : "+v"(r) : "v"(w.raw), "v"(x.x.raw));
  return VI32{r};
#else
  const DU16 du16;
  const D16 d16;
  const auto wu = hn::BitCast(du16, w);
  const auto we = hn::BitCast(d16, hn::And(wu, hn::Set(du16, 0xff))), wo = hn::BitCast(d16, hn::ShiftRight<8>(wu));
#if HWY_TARGET == HWY_AVX3
  return hn::Add(acc, hn::Add(VI32{_mm512_madd_epi16(we.raw, hn::BitCast(d16, x.even).raw)},
                              VI32{_mm512_madd_epi16(wo.raw, hn::BitCast(d16, x.odd).raw)}));
#elif HWY_TARGET == HWY_AVX2
  return hn::Add(acc, hn::Add(VI32{_mm256_madd_epi16(we.raw, hn::BitCast(d16, x.even).raw)},
                              VI32{_mm256_madd_epi16(wo.raw, hn::BitCast(d16, x.odd).raw)}));
#elif HWY_TARGET == HWY_SSE4 || HWY_TARGET == HWY_SSSE3
  return hn::Add(acc, hn::Add(VI32{_mm_madd_epi16(we.raw, hn::BitCast(d16, x.even).raw)},
                              VI32{_mm_madd_epi16(wo.raw, hn::BitCast(d16, x.odd).raw)}));
#else
  // Portable: int16 products (|u * x| <= 255 * 128 fits), then each 32-bit lane's two halves.
  const DI32 d;
  const auto pe = hn::BitCast(d, hn::Mul(we, hn::BitCast(d16, x.even)));
  const auto po = hn::BitCast(d, hn::Mul(wo, hn::BitCast(d16, x.odd)));
  const auto halves = [&](VI32 p) { return hn::Add(hn::ShiftRight<16>(hn::ShiftLeft<16>(p)), hn::ShiftRight<16>(p)); };
  return hn::Add(acc, hn::Add(halves(pe), halves(po)));
#endif
#endif
}

// ---- Bit planes -> u8 codes in the dot's layout -------------------------------------------------------

// The 8 weights of octet `wo` of a tile as u8 codes (value + offset), into quads 0 and 1 of `panel`
// ([quad][64 rows][4 bytes]). The plane arithmetic is cpu.dequant's: pmaddubsw applies both weights
// of a plane pair, leaving one int16 per row in row order.
template <int P, bool ODD>
HWY_INLINE void DecodeOctetCodes(const uint8_t* HWY_RESTRICT wo, const int (&pc)[8], int base, uint8_t* HWY_RESTRICT panel) {
  const D8 d8;
  const D16 d16;
  const DU16 du16;
  const DU32 du32;
  const hn::Half<DU16> dh16;
  constexpr int64_t L16 = kV / 2;
  using VU16 = hn::Vec<DU16>;
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
  for (int t0 = 0; t0 < 8; t0 += 4) {
    VU16 val[4][kAcc];
    for (int u = 0; u < 4; ++u) {
      const int t = t0 + u;
      hn::Vec<D16> v[kAcc];
      for (int i = 0; i < kAcc; ++i) v[i] = hn::Set(d16, int16_t(base));
      for (int j = 0; j < P; ++j)
        for (int i = 0; i < kAcc; ++i) {
          const auto bits = hn::BitCast(d8, hn::And(hn::ShiftRightSame(planes[j][i], t), ones));
          v[i] = hn::Add(v[i], hn::ShiftLeftSame(MulPairs(d16, bits, cp[j]), 2 * j));
        }
      if constexpr (ODD)
        for (int i = 0; i < kAcc / 2; ++i) {
          const auto bits = hn::BitCast(d8, hn::And(hn::ShiftRightSame(odd[i], t), ones));
          v[i] = hn::Add(v[i], hn::ShiftLeftSame(MulPairs(d16, bits, ce), 2 * P));
          v[i + kAcc / 2] = hn::Add(v[i + kAcc / 2], hn::ShiftLeftSame(MulPairs(d16, bits, co), 2 * P));
        }
      for (int i = 0; i < kAcc; ++i) val[u][i] = hn::BitCast(du16, v[i]);
    }
    // Codes t0..t0+3 of each row into one 32-bit lane: bytes (t0, t0+1) and (t0+2, t0+3) as u16
    // pairs, then the two pairs side by side (widening keeps row order).
    uint8_t* quad = panel + (t0 / 4) * quant::kTileRows * 4;
    for (int i = 0; i < kAcc; ++i) {
      const VU16 w01 = hn::Or(val[0][i], hn::ShiftLeft<8>(val[1][i]));
      const VU16 w23 = hn::Or(val[2][i], hn::ShiftLeft<8>(val[3][i]));
      const auto lo = hn::Or(hn::PromoteTo(du32, hn::LowerHalf(dh16, w01)), hn::ShiftLeft<16>(hn::PromoteTo(du32, hn::LowerHalf(dh16, w23))));
      const auto hi = hn::Or(hn::PromoteTo(du32, hn::UpperHalf(dh16, w01)), hn::ShiftLeft<16>(hn::PromoteTo(du32, hn::UpperHalf(dh16, w23))));
      hn::Store(lo, du32, reinterpret_cast<uint32_t*>(quad) + i * L16);
      hn::Store(hi, du32, reinterpret_cast<uint32_t*>(quad) + i * L16 + L16 / 2);
    }
  }
}

#if HWY_TARGET == HWY_AVX3_DL
// ---- The same codes by an 8x8 bit transpose (GFNI), AVX3_DL ----------------------------------------
// A row's octet is b bytes, one per plane, each holding bit u of weights 8o+u: an 8x8 bit matrix
// whose transpose is the row's 8 codes. vgf2p8affineqb computes, for byte j of its first operand and
// the qword M of its second, bit i = parity(M.byte[7-i] & x.byte[j]); with x.byte[j] = 1 << j and
// M.byte[7-i] = plane i of the row, byte j becomes the code of weight j (and the instruction's
// constant flips bit b-1, which is the + 2^(b-1) offset of signed codes). So per 16 rows: two byte
// permutes gather each row's planes into two dwords (planes 7..4 and 3..0, absent planes zero), a
// dword permute pairs them into one qword a row, the transpose, and a dword permute splits every
// row's two quads into the panel's layout. About 5 instructions a 64 bytes of codes, where the plane
// arithmetic above takes about 40 a vpdpbusd.
struct GfniTables {
  // [half][sub][T]: T = 0 gathers planes 7..4 (pair slots 2 and 3), T = 1 planes 3..0 (slots 0, 1).
  HWY_ALIGN uint8_t gather[2][2][2][64];
  uint64_t present[2][2][2];
};

// Slot j (0..3) of an octet is plane pair j (planes 2j, 2j+1) for j < P, the odd plane 2P (rows r
// and r + 32 in one word) for j == P when b is odd, and nothing past that.
template <int P, bool ODD>
constexpr GfniTables MakeGfniTables() {
  constexpr int B = 2 * P + (ODD ? 1 : 0);
  GfniTables t{};
  for (int h = 0; h < 2; ++h)
    for (int s = 0; s < 2; ++s)
      for (int T = 0; T < 2; ++T) {
        t.present[h][s][T] = 0;
        for (int i = 0; i < 16; ++i)
          for (int k = 0; k < 4; ++k) {
            const int plane = T == 0 ? 7 - k : 3 - k, byte = 4 * i + k, w = 16 * s + i;
            const int j = plane / 2, src = (j % 2) * 64;  // slots 0/2 are the permute's first source
            uint8_t idx = 0;
            if (plane >= B) continue;
            if (plane < 2 * P) idx = uint8_t(src + 2 * w + plane % 2);
            else idx = uint8_t(src + 2 * w + h);  // the odd plane: row 32h + w is byte h of word w
            t.gather[h][s][T][byte] = idx;
            t.present[h][s][T] |= uint64_t{1} << byte;
          }
      }
  return t;
}

template <int P, bool ODD>
inline constexpr GfniTables kGfniTables = MakeGfniTables<P, ODD>();

template <int Flip>
HWY_INLINE __m512i Transpose8x8(__m512i rows) {
  // Byte j of every qword selects bit j of each plane byte.
  const __m512i select = _mm512_set1_epi64(int64_t(0x8040201008040201ull));
  __m512i r;
  asm("vgf2p8affineqb %3, %2, %1, %0" : "=v"(r) : "v"(select), "v"(rows), "n"(Flip));
  return r;
}

template <int P, bool ODD, int Flip>
HWY_INLINE void DecodeOctetCodesGfni(const uint8_t* HWY_RESTRICT wo, uint8_t* HWY_RESTRICT panel) {
  constexpr GfniTables const& tab = kGfniTables<P, ODD>;
  // Rows r and r + 8 of each 16: their qwords are [planes 7..4 | planes 3..0] of one row.
  const __m512i pair_rows0 = _mm512_set_epi32(23, 7, 22, 6, 21, 5, 20, 4, 19, 3, 18, 2, 17, 1, 16, 0);
  const __m512i pair_rows1 = _mm512_set_epi32(31, 15, 30, 14, 29, 13, 28, 12, 27, 11, 26, 10, 25, 9, 24, 8);
  // Quad 0 (dword 0 of each qword) of 16 rows, then quad 1.
  const __m512i quad0 = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
  const __m512i quad1 = _mm512_set_epi32(31, 29, 27, 25, 23, 21, 19, 17, 15, 13, 11, 9, 7, 5, 3, 1);
  for (int h = 0; h < 2; ++h) {
    __m512i slot[4];
    for (int j = 0; j < 4; ++j) {
      if (j < P) slot[j] = _mm512_loadu_si512(wo + j * 128 + h * 64);
      else if (ODD && j == P) slot[j] = _mm512_loadu_si512(wo + P * 128);
      else slot[j] = _mm512_setzero_si512();
    }
    for (int s = 0; s < 2; ++s) {
      __m512i t[2];
      for (int T = 0; T < 2; ++T) {
        const int j0 = T == 0 ? 2 : 0;
        if (tab.present[h][s][T] == 0) {
          t[T] = _mm512_setzero_si512();
        } else {
          t[T] = _mm512_maskz_permutex2var_epi8(__mmask64(tab.present[h][s][T]), slot[j0],
                                                _mm512_load_si512(tab.gather[h][s][T]), slot[j0 + 1]);
        }
      }
      const __m512i codes0 = Transpose8x8<Flip>(_mm512_permutex2var_epi32(t[0], pair_rows0, t[1]));
      const __m512i codes1 = Transpose8x8<Flip>(_mm512_permutex2var_epi32(t[0], pair_rows1, t[1]));
      const int row0 = 32 * h + 16 * s;
      _mm512_store_si512(panel + row0 * 4, _mm512_permutex2var_epi32(codes0, quad0, codes1));
      _mm512_store_si512(panel + quant::kTileRows * 4 + row0 * 4, _mm512_permutex2var_epi32(codes0, quad1, codes1));
    }
  }
}

// GFNI is not in Highway's AVX3_DL flags; every AVX3_DL CPU so far has it, but ask.
inline bool CpuHasGfni() {
  static const bool has = __builtin_cpu_supports("gfni");
  return has;
}
#endif  // HWY_TARGET == HWY_AVX3_DL

#if HWY_TARGET == HWY_AVX2 || HWY_TARGET == HWY_AVX3
// ---- The same codes by an 8x8 bit transpose in 64-bit lanes, AVX2 and AVX3 ---------------------------
// No GFNI or byte permutes here: 16-bit and 32-bit unpacks gather each row's planes into one qword
// (byte p = plane p, absent planes zero; the odd plane's word holds rows r and r + 32, so each half of
// the tile takes its byte), three delta swaps transpose it (byte j = the code of weight j; Xor3 is
// one vpternlogq on AVX3), and shuffles split every row's two quads into the panel. About 25
// instructions a 4 rows against the plane arithmetic's ~45 (which SSE4 keeps).
using DU8S = hn::ScalableTag<uint8_t>;
using DU16S = hn::Repartition<uint16_t, DU8S>;
using DU32S = hn::Repartition<uint32_t, DU8S>;
using DU64S = hn::Repartition<uint64_t, DU8S>;
using VU64S = hn::Vec<DU64S>;

HWY_INLINE VU64S Transpose8x8Swar(VU64S x) {
  // Round s swaps the off-diagonal s x s blocks: bits (i, j) and (j, i) of the byte-rows matrix.
  const DU64S d;
  VU64S t = hn::And(hn::Xor(x, hn::ShiftRight<7>(x)), hn::Set(d, 0x00AA00AA00AA00AAull));
  x = hn::Xor3(x, t, hn::ShiftLeft<7>(t));
  t = hn::And(hn::Xor(x, hn::ShiftRight<14>(x)), hn::Set(d, 0x0000CCCC0000CCCCull));
  x = hn::Xor3(x, t, hn::ShiftLeft<14>(t));
  t = hn::And(hn::Xor(x, hn::ShiftRight<28>(x)), hn::Set(d, 0x00000000F0F0F0F0ull));
  return hn::Xor3(x, t, hn::ShiftLeft<28>(t));
}

// Dword kQuad of every qword of a and b, per 128-bit lane [a0 a1 b0 b1]: rows 0..3 of the lane's
// quad kQuad. Then the lanes in row order, two vectors of them at dst (in-lane shuffles can not).
#if HWY_TARGET == HWY_AVX2
template <int kQuad>
HWY_INLINE VU64S PickQuad(VU64S a, VU64S b) {
  constexpr int kSel = kQuad == 0 ? 0x88 : 0xDD;
  return VU64S{_mm256_castps_si256(_mm256_shuffle_ps(_mm256_castsi256_ps(a.raw), _mm256_castsi256_ps(b.raw), kSel))};
}
HWY_INLINE void StoreQuadRows(uint8_t* HWY_RESTRICT dst, VU64S r0123, VU64S r4567) {
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst), _mm256_permute2x128_si256(r0123.raw, r4567.raw, 0x20));
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + 32), _mm256_permute2x128_si256(r0123.raw, r4567.raw, 0x31));
}
#else
template <int kQuad>
HWY_INLINE VU64S PickQuad(VU64S a, VU64S b) {
  constexpr int kSel = kQuad == 0 ? 0x88 : 0xDD;
  return VU64S{_mm512_castps_si512(_mm512_shuffle_ps(_mm512_castsi512_ps(a.raw), _mm512_castsi512_ps(b.raw), kSel))};
}
HWY_INLINE void StoreQuadRows(uint8_t* HWY_RESTRICT dst, VU64S r0123, VU64S r4567) {
  // Rows 0..15 are lanes 0 and 1 of the two vectors, rows 16..31 lanes 2 and 3.
  const __m512i rows_lo = _mm512_set_epi64(11, 10, 3, 2, 9, 8, 1, 0), rows_hi = _mm512_set_epi64(15, 14, 7, 6, 13, 12, 5, 4);
  _mm512_storeu_si512(dst, _mm512_permutex2var_epi64(r0123.raw, rows_lo, r4567.raw));
  _mm512_storeu_si512(dst + 64, _mm512_permutex2var_epi64(r0123.raw, rows_hi, r4567.raw));
}
#endif

template <int P, bool ODD, bool Signed>
HWY_INLINE void DecodeOctetCodesSwar(const uint8_t* HWY_RESTRICT wo, uint8_t* HWY_RESTRICT panel) {
  const DU8S d8;
  const DU16S d16;
  const DU32S d32;
  const DU64S d64;
  constexpr int B = 2 * P + (ODD ? 1 : 0);
  constexpr int kBytes = int(hn::MaxLanes(d8));  // 32 or 64: half as many rows (a 128-bit lane holds 8)
  constexpr int kSteps = 128 / kBytes;
  // Signed codes: + 2^(b-1) flips bit b-1 of every code, that is every bit of plane b-1.
  const VU64S flip = hn::Set(d64, Signed ? uint64_t{0xff} << (8 * (B - 1)) : 0);
  for (int step = 0; step < kSteps; ++step) {  // rows step * kBytes / 2 onwards
    hn::Vec<DU16S> slot[4];
    for (int j = 0; j < 4; ++j) {
      if (j < P) {
        slot[j] = hn::BitCast(d16, hn::LoadU(d8, wo + j * 128 + step * kBytes));
      } else if (ODD && j == P) {
        const auto o = hn::BitCast(d16, hn::LoadU(d8, wo + P * 128 + (step % (64 / kBytes)) * kBytes));
        slot[j] = step < kSteps / 2 ? hn::And(o, hn::Set(d16, 0xff)) : hn::ShiftRight<8>(o);
      } else {
        slot[j] = hn::Zero(d16);
      }
    }
    const auto lo01 = hn::BitCast(d32, hn::InterleaveLower(d16, slot[0], slot[1]));
    const auto hi01 = hn::BitCast(d32, hn::InterleaveUpper(d16, slot[0], slot[1]));
    const auto lo23 = hn::BitCast(d32, hn::InterleaveLower(d16, slot[2], slot[3]));
    const auto hi23 = hn::BitCast(d32, hn::InterleaveUpper(d16, slot[2], slot[3]));
    // Per 128-bit lane: rows (0, 1), (2, 3), (4, 5), (6, 7) of its 8, one qword each.
    VU64S q[4] = {hn::BitCast(d64, hn::InterleaveLower(d32, lo01, lo23)), hn::BitCast(d64, hn::InterleaveUpper(d32, lo01, lo23)),
                  hn::BitCast(d64, hn::InterleaveLower(d32, hi01, hi23)), hn::BitCast(d64, hn::InterleaveUpper(d32, hi01, hi23))};
    for (int i = 0; i < 4; ++i) q[i] = Transpose8x8Swar(hn::Xor(q[i], flip));
    uint8_t* dst = panel + step * (kBytes / 2) * 4;
    StoreQuadRows(dst, PickQuad<0>(q[0], q[1]), PickQuad<0>(q[2], q[3]));
    StoreQuadRows(dst + quant::kTileRows * 4, PickQuad<1>(q[0], q[1]), PickQuad<1>(q[2], q[3]));
  }
}
#endif  // HWY_TARGET == HWY_AVX2 || HWY_TARGET == HWY_AVX3

// acc[m][i] = start[m] + the dot of `quads` quads of one block's panel with rows m0.. of X (xb: row
// m0's block; the next row's 32 bytes on).
template <int MB, bool kAvxVnni>
HWY_INLINE void DotBlock(const uint8_t* HWY_RESTRICT panel, int64_t quads, const int8_t* HWY_RESTRICT xb,
                         const int32_t (&start)[MB], VI32 (&acc)[MB][kVecPerTile]) {
  const DI32 di;
  for (int m = 0; m < MB; ++m)
    for (int i = 0; i < kVecPerTile; ++i) acc[m][i] = hn::Set(di, start[m]);
  for (int64_t q = 0; q < quads; ++q) {
    const auto* pq = reinterpret_cast<const int32_t*>(panel + q * quant::kTileRows * 4);
    XQuad x[MB];
    for (int m = 0; m < MB; ++m) x[m] = BroadcastQuad(xb + m * kIdotBlock + 4 * q);
    for (int i = 0; i < kVecPerTile; ++i) {
      const VI32 w = hn::Load(di, pq + i * kL32);
      for (int m = 0; m < MB; ++m) acc[m][i] = DotQuad<kAvxVnni>(acc[m][i], w, x[m]);
    }
  }
}

// One span of blocks [b0, b1) of one group (their panels decoded, kIdotPanelBytes apart) against
// MB rows of X from row m0, with the f32 sums of those rows in registers for the whole span:
//   f[m][row] = sum over blocks of d[m, b] * (panel_b . xq[m, b] - offset * qsum[m, b])
// (block formats: over blocks or half blocks, each term times its weight scales e.bs),
// starting from 0 where the span starts its group (else from gacc, where the previous span of a long
// group left it), and ending in yacc[m][row] += s[row] * (f - zc[row] * xsum[m, g]) where the
// span ends its group (= for the first group; else f is stored to gacc). The same operations in the
// same order as one block at a time. Why spans and not one block at a time: on Zen 5 a vector store
// takes two vpdpbusd issue slots and an FMA one (bench/results/cpu/idot-span-zen5-2026-11-30-session24/
// ports.cpp); with f in registers across a 128-weight group each sum is stored once per group
// instead of once per block.
struct SpanEnds {
  bool first = false, last = false;  // the span starts / ends its group
  bool assign = false;               // the group is the first: y = s * (...), y's old values unread
  const float* s = nullptr;          // [64] weight scales of the group (last only)
  const float* zc = nullptr;         // [64] zero point minus the centre (uint with zeros, last only), else null
  // Weight scales of the block formats, multiplied into each run's activation step: [blocks of the
  // span][runs][64], a run being a block (MX) or half of one (nvfp4, with IdotRows::step16 and
  // qsum16); else null, and the group's scale is `s`.
  const float* bs = nullptr;
  int64_t group = 0;
};

// kRuns: 0, group scales (s at the span's end); 1 or 2, e.bs holds scales for each block or each half
// of one (the halves' dots and corrections apart).
template <int MB, bool kAvxVnni = false, int kRuns = 0>
HWY_INLINE void DotSpan(const uint8_t* HWY_RESTRICT panels, int64_t b0, int64_t b1, int64_t octets, const IdotRows& r,
                        int64_t m0, int32_t offset, const SpanEnds& e, float* HWY_RESTRICT gacc, float* HWY_RESTRICT yacc) {
  const DF df;
  hn::Vec<DF> f[MB][kVecPerTile];
  for (int m = 0; m < MB; ++m)
    for (int i = 0; i < kVecPerTile; ++i) f[m][i] = e.first ? hn::Zero(df) : hn::Load(df, gacc + m * quant::kTileRows + i * kL32);
  for (int64_t b = b0; b < b1; ++b) {
    // Past k the activations are zero, so octet padding never counts.
    const int64_t quads = 2 * (std::min(octets, (b + 1) * 4) - b * 4);
    constexpr int kParts = kRuns == 2 ? 2 : 1;
    for (int h = 0; h < kParts; ++h) {
      // A half past k adds nothing (its codes are the center, its activations zero): skipped, so that
      // its scale (absent) is never read.
      const int64_t q0 = h * 4, q1 = kParts == 2 ? std::min<int64_t>(quads, q0 + 4) : quads;
      if (q1 <= q0) break;
      // The sums start at -offset * qsum (as in DotSpanTriple): the block's end converts them as they are.
      auto ib = [&](int m) { return (m0 + m) * r.blocks + b; };
      int32_t start[MB];
      for (int m = 0; m < MB; ++m) start[m] = -offset * (kRuns == 2 ? r.qsum16[2 * ib(m) + h] : r.qsum[ib(m)]);
      VI32 acc[MB][kVecPerTile];
      DotBlock<MB, kAvxVnni>(panels + (b - b0) * kIdotPanelBytes + q0 * quant::kTileRows * 4, q1 - q0,
                             r.xq + b * r.block_stride + m0 * kIdotBlock + 4 * q0, start, acc);
      for (int m = 0; m < MB; ++m) {
        const auto d = hn::Set(df, kRuns == 2 ? r.step16[2 * ib(m) + h] : r.step[ib(m)]);
        for (int i = 0; i < kVecPerTile; ++i) {
          auto db = d;
          if constexpr (kRuns != 0)
            db = hn::Mul(d, hn::Load(df, e.bs + ((b - b0) * kParts + h) * quant::kTileRows + i * kL32));
          f[m][i] = hn::MulAdd(hn::ConvertTo(df, acc[m][i]), db, f[m][i]);
        }
      }
    }
  }
  for (int m = 0; m < MB; ++m) {
    if (!e.last) {
      for (int i = 0; i < kVecPerTile; ++i) hn::Store(f[m][i], df, gacc + m * quant::kTileRows + i * kL32);
      continue;
    }
    float* y = yacc + m * quant::kTileRows;
    const auto xs = hn::Set(df, e.zc ? r.xsum[(m0 + m) * r.groups + e.group] : 0.0f);
    for (int i = 0; i < kVecPerTile; ++i) {
      auto v = f[m][i];
      if (e.zc) v = hn::NegMulAdd(hn::Load(df, e.zc + i * kL32), xs, v);
      const auto sv = hn::Load(df, e.s + i * kL32);
      hn::StoreU(e.assign ? hn::Mul(sv, v) : hn::MulAdd(sv, v, hn::LoadU(df, y + i * kL32)), df, y + i * kL32);
    }
  }
}

#if HWY_TARGET == HWY_AVX3 || HWY_TARGET == HWY_AVX2 || HWY_TARGET == HWY_SSE4
// ---- Without VNNI: byte pairs by pmaddubsw ----------------------------------------------------------
// pmaddubsw: each int16 lane the sum of one byte pair's u8(w) * s8(x). It saturates, so it takes codes
// below 128 only (7 bits and fewer, mxfp4's and nvfp4's): then |u0 x0 + u1 x1| <= 2 * 127 * 127 < 2^15.
using V16 = hn::Vec<D16>;
HWY_INLINE V16 MulPairs(VI32 w, VI32 x) {
#if HWY_TARGET == HWY_AVX3
  return V16{_mm512_maddubs_epi16(w.raw, x.raw)};
#elif HWY_TARGET == HWY_AVX2
  return V16{_mm256_maddubs_epi16(w.raw, x.raw)};
#else
  return V16{_mm_maddubs_epi16(w.raw, x.raw)};
#endif
}

// pmaddwd by ones: each int32 lane the sum of its two int16 lanes (one row's 4 products).
HWY_INLINE VI32 WidenPairs(V16 s) {
  const V16 ones = hn::Set(D16(), 1);
#if HWY_TARGET == HWY_AVX3
  return VI32{_mm512_madd_epi16(s.raw, ones.raw)};
#elif HWY_TARGET == HWY_AVX2
  return VI32{_mm256_madd_epi16(s.raw, ones.raw)};
#else
  return VI32{_mm_madd_epi16(s.raw, ones.raw)};
#endif
}

// DotSpan for the targets without VNNI (AVX-512 without it, AVX2 without AVX-VNNI, SSE4) where the
// codes stay below 128: per quad and vector one pmaddubsw and one int16 add, and per `pair_quads`
// quads one pmaddwd and int32 add, where the emulation in DotQuad takes two pmaddwd, two adds and
// the even/odd split of the weights (6 instructions). One vector of W's rows at a time through the
// whole span (the f32 sums of MB rows of X, their int32 and int16 sums, a weight vector and a
// broadcast: 3 * MB + 2 registers, within AVX2's 16 at MB = 4), each weight vector loaded once for
// MB rows of X and each quad of X broadcast from memory as it is used. The same integers per block
// (or half of one) as DotSpan, and then the same f32 steps per lane in the same order: the same bits.
template <int MB, int kRuns>
HWY_INLINE void DotSpanPairs(const uint8_t* HWY_RESTRICT panels, int64_t b0, int64_t b1, int64_t octets, const IdotRows& r,
                             int64_t m0, int32_t offset, int pair_quads, const SpanEnds& e, float* HWY_RESTRICT gacc,
                             float* HWY_RESTRICT yacc) {
  const DF df;
  const DI32 di;
  const D16 d16;
  constexpr int64_t R = quant::kTileRows;
  constexpr int kParts = kRuns == 2 ? 2 : 1;
  // Each run's (block's, or half block's) start -offset * qsum and step per row of X, read once for the
  // span's kVecPerTile passes.
  HWY_ALIGN int32_t start[kIdotSpanBlocks * kParts][MB];
  HWY_ALIGN float step[kIdotSpanBlocks * kParts][MB];
  for (int64_t b = b0; b < b1; ++b)
    for (int h = 0; h < kParts; ++h)
      for (int m = 0; m < MB; ++m) {
        const int64_t ib = (m0 + m) * r.blocks + b, j = (b - b0) * kParts + h;
        start[j][m] = -offset * (kRuns == 2 ? r.qsum16[2 * ib + h] : r.qsum[ib]);
        step[j][m] = kRuns == 2 ? r.step16[2 * ib + h] : r.step[ib];
      }
  for (int i = 0; i < kVecPerTile; ++i) {
    hn::Vec<DF> f[MB];
    for (int m = 0; m < MB; ++m) f[m] = e.first ? hn::Zero(df) : hn::Load(df, gacc + m * R + i * kL32);
    for (int64_t b = b0; b < b1; ++b) {
      // Past k the activations are zero, so octet padding never counts.
      const int64_t quads = 2 * (std::min(octets, (b + 1) * 4) - b * 4);
      const int32_t* panel = reinterpret_cast<const int32_t*>(panels + (b - b0) * kIdotPanelBytes) + i * kL32;
      const int8_t* xb = r.xq + b * r.block_stride + m0 * kIdotBlock;
      for (int h = 0; h < kParts; ++h) {
        // A half past k adds nothing (as in DotSpan).
        const int64_t q0 = h * 4, q1 = kParts == 2 ? std::min<int64_t>(quads, q0 + 4) : quads;
        if (q1 <= q0) break;
        const int64_t j = (b - b0) * kParts + h;
        VI32 acc[MB];
        for (int m = 0; m < MB; ++m) acc[m] = hn::Set(di, start[j][m]);
        for (int64_t qc = q0; qc < q1; qc += pair_quads) {
          const int64_t qe = std::min<int64_t>(q1, qc + pair_quads);
          V16 pairs[MB];
          for (int m = 0; m < MB; ++m) pairs[m] = hn::Zero(d16);
          for (int64_t q = qc; q < qe; ++q) {
            const VI32 w = hn::Load(di, panel + q * R);
            for (int m = 0; m < MB; ++m) {
              int32_t xv;
              std::memcpy(&xv, xb + m * kIdotBlock + 4 * q, 4);
              pairs[m] = hn::Add(pairs[m], MulPairs(w, hn::Set(di, xv)));
            }
          }
          for (int m = 0; m < MB; ++m) acc[m] = hn::Add(acc[m], WidenPairs(pairs[m]));
        }
        for (int m = 0; m < MB; ++m) {
          auto db = hn::Set(df, step[j][m]);
          if constexpr (kRuns != 0) db = hn::Mul(db, hn::Load(df, e.bs + ((b - b0) * kParts + h) * R + i * kL32));
          f[m] = hn::MulAdd(hn::ConvertTo(df, acc[m]), db, f[m]);
        }
      }
    }
    for (int m = 0; m < MB; ++m) {
      if (!e.last) {
        hn::Store(f[m], df, gacc + m * R + i * kL32);
        continue;
      }
      float* y = yacc + m * R + i * kL32;
      auto v = f[m];
      if (e.zc) v = hn::NegMulAdd(hn::Load(df, e.zc + i * kL32), hn::Set(df, r.xsum[(m0 + m) * r.groups + e.group]), v);
      const auto sv = hn::Load(df, e.s + i * kL32);
      hn::StoreU(e.assign ? hn::Mul(sv, v) : hn::MulAdd(sv, v, hn::LoadU(df, y)), df, y);
    }
  }
}
#endif  // HWY_TARGET == HWY_AVX3 || HWY_TARGET == HWY_AVX2 || HWY_TARGET == HWY_SSE4

#if HWY_TARGET == HWY_AVX3_DL
// DotSpan for three rows of X on AVX512-VNNI, the prefill's hot loop. Three rows, because twelve
// independent vpdpbusd chains keep both of Zen 5's dot pipes busy (eight reach about 88%, the
// instruction's latency: bench/results/cpu/vnni-zen5-2026-11-30-session23/results.txt), and the
// 12 int32 plus 12 f32 sums, 3 broadcasts and a weight vector fill 28 of the 32 registers. Written
// so that GCC 12 keeps them there: from intrinsics or Highway it moved every accumulator through a
// second register each quad (16 more instructions per 8 vpdpbusd), or kept the f32 sums in memory
// (a load and a store each per block), whatever the loop's shape; named variables and one asm
// statement a quad compile to 3 broadcasts, 4 loads and 12 vpdpbusd.
template <int kRuns>
HWY_NOINLINE void DotSpanTriple(const uint8_t* HWY_RESTRICT panels, int64_t b0, int64_t b1, int64_t octets, const IdotRows& r,
                                int64_t m0, int32_t offset, const SpanEnds& e, float* HWY_RESTRICT gacc, float* HWY_RESTRICT yacc) {
  constexpr int64_t R = quant::kTileRows;
  // Row m0 + j: f[4j .. 4j + 3] below, named so that they stay in registers.
  __m512 f0, f1, f2, f3, f4, f5, f6, f7, f8, f9, f10, f11;
  if (e.first) {
    f0 = f1 = f2 = f3 = f4 = f5 = f6 = f7 = f8 = f9 = f10 = f11 = _mm512_setzero_ps();
  } else {
    const float* g = gacc;
    f0 = _mm512_load_ps(g), f1 = _mm512_load_ps(g + 16), f2 = _mm512_load_ps(g + 32), f3 = _mm512_load_ps(g + 48);
    g += R;
    f4 = _mm512_load_ps(g), f5 = _mm512_load_ps(g + 16), f6 = _mm512_load_ps(g + 32), f7 = _mm512_load_ps(g + 48);
    g += R;
    f8 = _mm512_load_ps(g), f9 = _mm512_load_ps(g + 16), f10 = _mm512_load_ps(g + 32), f11 = _mm512_load_ps(g + 48);
  }
  constexpr int kParts = kRuns == 2 ? 2 : 1;  // as in DotSpan
  for (int64_t b = b0; b < b1; ++b) {
    const int64_t quads = 2 * (std::min(octets, (b + 1) * 4) - b * 4);
    const uint8_t* panel = panels + (b - b0) * kIdotPanelBytes;
    const int8_t* xb = r.xq + b * r.block_stride + m0 * kIdotBlock;
    for (int h = 0; h < kParts; ++h) {
      const int64_t q0 = h * 4, q1 = kParts == 2 ? std::min<int64_t>(quads, q0 + 4) : quads;
      if (q1 <= q0) break;
      const int64_t i0 = m0 * r.blocks + b, i1 = i0 + r.blocks, i2 = i1 + r.blocks;
      auto qs = [&](int64_t i) { return kRuns == 2 ? r.qsum16[2 * i + h] : r.qsum[i]; };
      // The int32 sums start at -offset * qsum, the centring of the codes (see IdotTile), so the block's
      // end converts them as they are: 12 subtractions a block fewer, 1.04-1.10x at m = 512 for the
      // int formats (session 29, bench/results/cpu/idot-init-offset-2026-12-01-session29.txt). Exact: the
      // same integers in another order.
      __m512i a0 = _mm512_set1_epi32(-offset * qs(i0)), a1 = a0, a2 = a0, a3 = a0;
      __m512i a4 = _mm512_set1_epi32(-offset * qs(i1)), a5 = a4, a6 = a4, a7 = a4;
      __m512i a8 = _mm512_set1_epi32(-offset * qs(i2)), a9 = a8, a10 = a8, a11 = a8;
      for (int64_t q = q0; q < q1; ++q) {
        const uint8_t* pq = panel + q * R * 4;
        const int8_t* xq = xb + 4 * q;
        __m512i x0, x1, x2, w;
        // Highway's AVX3_DL flags lack avx512vnni (its run-time check requires VNNI), so the
        // instruction is written directly (as in DotQuad). acc += u8(w) . s8(x) per lane.
        asm("vpbroadcastd (%[x]), %[x0]\n\t"
            "vpbroadcastd 32(%[x]), %[x1]\n\t"
            "vpbroadcastd 64(%[x]), %[x2]\n\t"
            "vmovdqa64 (%[p]), %[w]\n\t"
            "vpdpbusd %[x0], %[w], %[a0]\n\t"
            "vpdpbusd %[x1], %[w], %[a4]\n\t"
            "vpdpbusd %[x2], %[w], %[a8]\n\t"
            "vmovdqa64 64(%[p]), %[w]\n\t"
            "vpdpbusd %[x0], %[w], %[a1]\n\t"
            "vpdpbusd %[x1], %[w], %[a5]\n\t"
            "vpdpbusd %[x2], %[w], %[a9]\n\t"
            "vmovdqa64 128(%[p]), %[w]\n\t"
            "vpdpbusd %[x0], %[w], %[a2]\n\t"
            "vpdpbusd %[x1], %[w], %[a6]\n\t"
            "vpdpbusd %[x2], %[w], %[a10]\n\t"
            "vmovdqa64 192(%[p]), %[w]\n\t"
            "vpdpbusd %[x0], %[w], %[a3]\n\t"
            "vpdpbusd %[x1], %[w], %[a7]\n\t"
            "vpdpbusd %[x2], %[w], %[a11]"
            : [a0] "+v"(a0), [a1] "+v"(a1), [a2] "+v"(a2), [a3] "+v"(a3), [a4] "+v"(a4), [a5] "+v"(a5), [a6] "+v"(a6),
              [a7] "+v"(a7), [a8] "+v"(a8), [a9] "+v"(a9), [a10] "+v"(a10), [a11] "+v"(a11), [x0] "=&v"(x0),
              [x1] "=&v"(x1), [x2] "=&v"(x2), [w] "=&v"(w)
            : [x] "r"(xq), [p] "r"(pq)
            : "memory");
      }
      // f += d * acc (acc = the dot - offset * qsum), per row.
      auto st = [&](int64_t i) { return kRuns == 2 ? r.step16[2 * i + h] : r.step[i]; };
      const __m512 d0 = _mm512_set1_ps(st(i0)), d1 = _mm512_set1_ps(st(i1)), d2 = _mm512_set1_ps(st(i2));
#define TESSEL_IDOT_ADD(F, A, D) F = _mm512_fmadd_ps(_mm512_cvtepi32_ps(A), D, F)
      if constexpr (kRuns != 0) {
        // The run's weight scales times the row's step: 12 more multiplies a run, where closing
        // every block as a group of its own stored 12 sums (and loaded and FMAed 12 more).
        const float* bs = e.bs + ((b - b0) * kParts + h) * R;
        const __m512 s0 = _mm512_load_ps(bs), s1 = _mm512_load_ps(bs + 16), s2 = _mm512_load_ps(bs + 32),
                     s3 = _mm512_load_ps(bs + 48);
        TESSEL_IDOT_ADD(f0, a0, _mm512_mul_ps(d0, s0)), TESSEL_IDOT_ADD(f1, a1, _mm512_mul_ps(d0, s1));
        TESSEL_IDOT_ADD(f2, a2, _mm512_mul_ps(d0, s2)), TESSEL_IDOT_ADD(f3, a3, _mm512_mul_ps(d0, s3));
        TESSEL_IDOT_ADD(f4, a4, _mm512_mul_ps(d1, s0)), TESSEL_IDOT_ADD(f5, a5, _mm512_mul_ps(d1, s1));
        TESSEL_IDOT_ADD(f6, a6, _mm512_mul_ps(d1, s2)), TESSEL_IDOT_ADD(f7, a7, _mm512_mul_ps(d1, s3));
        TESSEL_IDOT_ADD(f8, a8, _mm512_mul_ps(d2, s0)), TESSEL_IDOT_ADD(f9, a9, _mm512_mul_ps(d2, s1));
        TESSEL_IDOT_ADD(f10, a10, _mm512_mul_ps(d2, s2)), TESSEL_IDOT_ADD(f11, a11, _mm512_mul_ps(d2, s3));
      } else {
        TESSEL_IDOT_ADD(f0, a0, d0), TESSEL_IDOT_ADD(f1, a1, d0), TESSEL_IDOT_ADD(f2, a2, d0), TESSEL_IDOT_ADD(f3, a3, d0);
        TESSEL_IDOT_ADD(f4, a4, d1), TESSEL_IDOT_ADD(f5, a5, d1), TESSEL_IDOT_ADD(f6, a6, d1), TESSEL_IDOT_ADD(f7, a7, d1);
        TESSEL_IDOT_ADD(f8, a8, d2), TESSEL_IDOT_ADD(f9, a9, d2), TESSEL_IDOT_ADD(f10, a10, d2), TESSEL_IDOT_ADD(f11, a11, d2);
      }
#undef TESSEL_IDOT_ADD
    }
  }
  // Where the span ends its group: y (+)= s * (f - zc * xsum) (zc absent: f); else f into gacc.
  auto finish = [&](int64_t j, __m512 v0, __m512 v1, __m512 v2, __m512 v3) {
    const __m512 v[4] = {v0, v1, v2, v3};
    if (!e.last) {
      for (int i = 0; i < 4; ++i) _mm512_store_ps(gacc + j * R + 16 * i, v[i]);
      return;
    }
    float* y = yacc + j * R;
    const __m512 xs = _mm512_set1_ps(e.zc ? r.xsum[(m0 + j) * r.groups + e.group] : 0.0f);
    for (int i = 0; i < 4; ++i) {
      __m512 t = v[i];
      if (e.zc) t = _mm512_fnmadd_ps(_mm512_load_ps(e.zc + 16 * i), xs, t);
      const __m512 sv = _mm512_load_ps(e.s + 16 * i);
      _mm512_storeu_ps(y + 16 * i, e.assign ? _mm512_mul_ps(sv, t) : _mm512_fmadd_ps(sv, t, _mm512_loadu_ps(y + 16 * i)));
    }
  };
  finish(0, f0, f1, f2, f3);
  finish(1, f4, f5, f6, f7);
  finish(2, f8, f9, f10, f11);
}
#endif  // HWY_TARGET == HWY_AVX3_DL

#else  // HWY_SCALAR: the same panel and sums, one byte at a time.

template <int P, bool ODD>
HWY_INLINE void DecodeOctetCodes(const uint8_t* HWY_RESTRICT wo, const int (&pc)[8], int base, uint8_t* HWY_RESTRICT panel) {
  constexpr int B = 2 * P + (ODD ? 1 : 0);
  for (int r = 0; r < quant::kTileRows; ++r) {
    uint8_t bytes[8];
    for (int b = 0; b < B; ++b)
      bytes[b] = wo[b < 2 * P ? (b / 2) * 128 + 16 * (r / 8) + 2 * (r % 8) + (b % 2)
                              : int64_t(B - 1) * 64 + 16 * ((r % 32) / 8) + 2 * (r % 8) + r / 32];
    for (int t = 0; t < 8; ++t) {
      int v = base;
      for (int b = 0; b < B; ++b) v += ((bytes[b] >> t) & 1) * pc[b] * (1 << (2 * (b / 2)));
      panel[(t / 4) * quant::kTileRows * 4 + r * 4 + t % 4] = uint8_t(v);
    }
  }
}

constexpr int kMB = 1;

struct SpanEnds {
  bool first = false, last = false, assign = false;
  const float* s = nullptr;
  const float* zc = nullptr;
  const float* bs = nullptr;
  int64_t group = 0;
};

template <int MB, bool kAvxVnni = false, int kRuns = 0>
HWY_INLINE void DotSpan(const uint8_t* HWY_RESTRICT panels, int64_t b0, int64_t b1, int64_t octets, const IdotRows& r,
                        int64_t m0, int32_t offset, const SpanEnds& e, float* HWY_RESTRICT gacc, float* HWY_RESTRICT yacc) {
  constexpr int kParts = kRuns == 2 ? 2 : 1;
  for (int m = 0; m < MB; ++m) {
    const int64_t row = m0 + m;
    float* g = gacc + m * quant::kTileRows;
    for (int64_t j = 0; j < quant::kTileRows; ++j) {
      float f = e.first ? 0.0f : g[j];
      for (int64_t b = b0; b < b1; ++b) {
        const int64_t quads = 2 * (std::min(octets, (b + 1) * 4) - b * 4);
        const uint8_t* panel = panels + (b - b0) * kIdotPanelBytes;
        const int8_t* xb = r.xq + b * r.block_stride + row * kIdotBlock;
        for (int h = 0; h < kParts; ++h) {
          const int64_t q0 = h * 4, q1 = kParts == 2 ? std::min<int64_t>(quads, q0 + 4) : quads;
          if (q1 <= q0) break;
          int32_t acc = 0;
          for (int64_t q = q0; q < q1; ++q)
            for (int u = 0; u < 4; ++u) acc += int32_t(panel[q * quant::kTileRows * 4 + j * 4 + u]) * xb[4 * q + u];
          const int64_t i = row * r.blocks + b;
          const float d = kRuns == 2 ? r.step16[2 * i + h] : r.step[i];
          const int32_t qs = kRuns == 2 ? r.qsum16[2 * i + h] : r.qsum[i];
          f += float(acc - offset * qs) * (kRuns != 0 ? d * e.bs[((b - b0) * kParts + h) * quant::kTileRows + j] : d);
        }
      }
      if (!e.last) {
        g[j] = f;
      } else {
        if (e.zc) f -= e.zc[j] * r.xsum[row * r.groups + e.group];
        float& y = yacc[m * quant::kTileRows + j];
        y = e.assign ? e.s[j] * f : y + e.s[j] * f;
      }
    }
  }
}

#endif  // HWY_TARGET != HWY_SCALAR

// How far ahead of a tile's stream to prefetch: cpu.lut's distance for one stream per core
// (cpu_lut.cpp, kPrefetchBytes).
constexpr int64_t kIdotPrefetchBytes = 4096;

// Every row of the chunk through one span of decoded panels (blocks [b0, b1)): row m of X has its
// partial sums at gacc + m * 64 and its outputs at yacc + m * 64. Three rows at a time on AVX3_DL,
// then kMB, then one; the AVX2 target's dots by AVX-VNNI where the CPU has it; without VNNI, codes
// below 128 (pair_quads > 0) four rows at a time through DotSpanPairs.
template <int kRuns>
HWY_INLINE void SweepRows(const uint8_t* HWY_RESTRICT panels, int64_t b0, int64_t b1, int64_t octets, const IdotRows& r,
                          int32_t center, int pair_quads, const SpanEnds& e, float* HWY_RESTRICT gacc, float* HWY_RESTRICT yacc) {
  constexpr int64_t R = quant::kTileRows;
  int64_t m = 0;
#if HWY_TARGET == HWY_AVX2
  if (r.avx_vnni) {
    for (; m + kMB <= r.rows; m += kMB)
      DotSpan<kMB, true, kRuns>(panels, b0, b1, octets, r, m, center, e, gacc + m * R, yacc + m * R);
    for (; m < r.rows; ++m) DotSpan<1, true, kRuns>(panels, b0, b1, octets, r, m, center, e, gacc + m * R, yacc + m * R);
  }
#endif
#if HWY_TARGET == HWY_AVX3 || HWY_TARGET == HWY_AVX2 || HWY_TARGET == HWY_SSE4
  if (pair_quads > 0) {
    constexpr int kPairRows = 4;
    for (; m + kPairRows <= r.rows; m += kPairRows)
      DotSpanPairs<kPairRows, kRuns>(panels, b0, b1, octets, r, m, center, pair_quads, e, gacc + m * R, yacc + m * R);
    for (; m < r.rows; ++m) DotSpanPairs<1, kRuns>(panels, b0, b1, octets, r, m, center, pair_quads, e, gacc + m * R, yacc + m * R);
  }
#else
  (void)pair_quads;
#endif
#if HWY_TARGET == HWY_AVX3_DL
  for (; m + 3 <= r.rows; m += 3) DotSpanTriple<kRuns>(panels, b0, b1, octets, r, m, center, e, gacc + m * R, yacc + m * R);
#endif
  for (; m + kMB <= r.rows; m += kMB)
    DotSpan<kMB, false, kRuns>(panels, b0, b1, octets, r, m, center, e, gacc + m * R, yacc + m * R);
  for (; m < r.rows; ++m) DotSpan<1, false, kRuns>(panels, b0, b1, octets, r, m, center, e, gacc + m * R, yacc + m * R);
}

// One 64-row tile against every row of the chunk: yacc[m][row] gets the tile's outputs.
template <int P, bool ODD>
void IdotTile(const CpuArgs& a, const IdotRows& r, int64_t tile, float* HWY_RESTRICT gacc, float* HWY_RESTRICT yacc) {
  const DF df;
  constexpr int B = 2 * P + (ODD ? 1 : 0);
  constexpr int64_t kLF = int64_t(hn::MaxLanes(DF()));
  const PlaneWeights pw = PlaneWeights::of(a.s.fmt);
  int pc[8] = {};
  for (int b = 0; b < B; ++b) pc[b] = pw.c[b] / (1 << (2 * (b / 2)));
  const bool zeros = a.s.fmt.has_zeros();
  // Signed codes q in [-2^(b-1), 2^(b-1)) are stored in the panel as u = q + 2^(b-1), a byte; uint
  // codes as they are. Either way the dot takes c = 2^(b-1) off again (c * sum(xq), exact in int32),
  // so it sums (u - c) * xq: int codes exactly, uint codes centred. Centring matters for accuracy:
  // the activation rounding errors are multiplied by the codes, and u - c is about half the size
  // of u; uint then adds back s * (c - z) * sum(x) with the exact f32 sum of x.
  const int32_t center = int32_t(1) << (B - 1);
  const bool signed_codes = a.s.fmt.scheme == quant::Scheme::int_sym;
  const int decode_base = pw.w0 + (signed_codes ? center : 0);
#if HWY_TARGET == HWY_AVX3_DL
  const bool gfni = CpuHasGfni();
#endif
  const int64_t octets_per_block = kIdotBlock / quant::kOctet;
  const int64_t blocks_per_group = a.s.fmt.group == 0 ? r.blocks : a.s.fmt.group / kIdotBlock;
  HWY_ALIGN uint8_t panels[kIdotSpanBlocks * kIdotPanelBytes];
  HWY_ALIGN float s[quant::kTileRows], zc[quant::kTileRows];
  const uint8_t* wt = a.w + tile * a.octets * B * quant::kTileRows;
  for (int64_t b0 = 0; b0 < r.blocks;) {
    // A span: up to kIdotSpanBlocks blocks, never across a group's end.
    const int64_t g = b0 / blocks_per_group, group_end = std::min(r.blocks, (g + 1) * blocks_per_group);
    const int64_t b1 = std::min(group_end, b0 + kIdotSpanBlocks);
    const int64_t o0 = b0 * octets_per_block, o1 = std::min(a.octets, b1 * octets_per_block);
    for (int64_t o = o0; o < o1; ++o) {
      const uint8_t* octet = wt + o * B * quant::kTileRows;
      for (int line = 0; line < B; ++line) PrefetchL2(octet + kIdotPrefetchBytes + line * 64);
      uint8_t* quads01 = panels + (o - o0) * 2 * quant::kTileRows * 4;
#if HWY_TARGET == HWY_AVX3_DL
      if (gfni) {
        if (signed_codes) DecodeOctetCodesGfni<P, ODD, (1 << (B - 1))>(octet, quads01);
        else DecodeOctetCodesGfni<P, ODD, 0>(octet, quads01);
        continue;
      }
#elif HWY_TARGET == HWY_AVX2 || HWY_TARGET == HWY_AVX3
      if (signed_codes) DecodeOctetCodesSwar<P, ODD, true>(octet, quads01);
      else DecodeOctetCodesSwar<P, ODD, false>(octet, quads01);
      continue;
#endif
      DecodeOctetCodes<P, ODD>(octet, pc, decode_base, quads01);
    }
    SpanEnds e;
    e.first = b0 % blocks_per_group == 0;
    e.last = b1 == group_end;
    e.group = g;
    e.assign = g == 0;
    if (e.last) {
      LoadTileGroup(df, a, a.scales, tile, g, s);
      e.s = s;
      if (zeros) {
        LoadTileGroup(df, a, a.zeros, tile, g, zc);
        for (int64_t i = 0; i < quant::kTileRows; i += kLF) hn::Store(hn::Sub(hn::Load(df, zc + i), hn::Set(df, float(center))), df, zc + i);
        e.zc = zc;
      }
    }
    SweepRows<0>(panels, b0, b1, a.octets, r, center, PairQuads((1 << B) - 1), e, gacc, yacc);
    b0 = b1;
  }
}

// ---- MX block formats (mxint8, mxfp4) -> u8 codes in the dot's layout ----------------------------------
// Row-major rows of blocks of 32 (docs/formats.md, "Block layouts"). A code is u = v + center with v
// the element's integer value: mxint8's q itself (u = q ^ 0x80), mxfp4's 2 * fp4(q), one of 0, +-1,
// +-2, +-3, +-4, +-6, +-8, +-12 (center 16), so that the weight is v times the block's 2^(e-127) / 64
// or / 2, exactly. Past n (the last tile) and past k (the last block) the codes are the center:
// value 0, whatever the activations there.
constexpr int32_t kMxInt8Center = 128;
constexpr int32_t kMxFp4Center = 16;
// u of each e2m1 code: sign in bit 3, magnitudes 0, 0.5, 1, 1.5, 2, 3, 4, 6.
constexpr uint8_t kFp4Codes[16] = {16, 17, 18, 19, 20, 22, 24, 28, 16, 15, 14, 13, 12, 10, 8, 4};

template <bool kFp4>
constexpr int64_t MxRowBytes(int64_t k) {
  return kFp4 ? (k + 1) / 2 : k;
}

// Block b of tile `tile`, any tile and block (the last of each): each row's 32 codes, then their
// quads into the panel. A whole block's codes come from vectors (mxfp4: the nibbles split, interleaved
// back into element order, and looked up by pshufb), a partial one's element by element.
template <bool kFp4>
void DecodeMxPanel(const CpuArgs& a, int64_t tile, int64_t b, uint8_t* HWY_RESTRICT panel) {
  const int64_t k = a.s.k, row_bytes = MxRowBytes<kFp4>(k);
  const uint8_t center = uint8_t(kFp4 ? kMxFp4Center : kMxInt8Center);
  [[maybe_unused]] const bool whole = (b + 1) * kIdotBlock <= k;
  HWY_ALIGN uint8_t codes[quant::kTileRows][kIdotBlock];
  for (int64_t r = 0; r < quant::kTileRows; ++r) {
    const int64_t n = tile * quant::kTileRows + r;
    if (n >= a.s.n) {
      std::memset(codes[r], center, kIdotBlock);
      continue;
    }
    const uint8_t* HWY_RESTRICT src = a.w + n * row_bytes + b * (kFp4 ? kIdotBlock / 2 : kIdotBlock);
#if HWY_TARGET != HWY_SCALAR
    if (whole) {
      const hn::FixedTag<uint8_t, 16> d16;
      if constexpr (kFp4) {
        const auto v = hn::LoadU(d16, src);
        const auto lo = hn::And(v, hn::Set(d16, uint8_t{15})), hi = hn::ShiftRight<4>(v);
        const auto table = hn::LoadU(d16, kFp4Codes);
        hn::StoreU(hn::TableLookupBytes(table, hn::InterleaveLower(d16, lo, hi)), d16, codes[r]);
        hn::StoreU(hn::TableLookupBytes(table, hn::InterleaveUpper(d16, lo, hi)), d16, codes[r] + 16);
      } else {
        for (int h = 0; h < 2; ++h)
          hn::StoreU(hn::Xor(hn::LoadU(d16, src + 16 * h), hn::Set(d16, uint8_t{0x80})), d16, codes[r] + 16 * h);
      }
      continue;
    }
#endif
    for (int64_t j = 0; j < kIdotBlock; ++j)
      codes[r][j] = b * kIdotBlock + j >= k ? center : kFp4 ? kFp4Codes[(src[j / 2] >> (4 * (j % 2))) & 15] : uint8_t(src[j] ^ 0x80);
  }
  for (int64_t q = 0; q < kIdotBlock / 4; ++q)
    for (int64_t r = 0; r < quant::kTileRows; ++r) std::memcpy(panel + (q * quant::kTileRows + r) * 4, codes[r] + 4 * q, 4);
}

#if HWY_TARGET == HWY_AVX3_DL
// The same for a whole tile's whole block, 16 rows at a time: the rows' quads (mxint8: 4 bytes,
// mxfp4: 2) loaded row by row and transposed into quad-major order by two-source permutes, then
// mxfp4's nibbles spread into bytes (vpmultishiftqb) and mapped to codes (vpermb, whose 64-byte table
// is four copies of kFp4Codes, so the bits above a nibble select nothing). (One gather per quad and 16
// rows took about 21 cycles each on Zen 5: this decode ran the GEMV at cpu.dequant's speed.)
//
// A permute stage's index: output lane t takes the lane of a (or of b, + lanes) labelled want(t),
// labels being (row, quad) pairs. Built once per stage.
struct MxLane {
  int row, quad;
  constexpr bool operator==(const MxLane&) const = default;
};
// kLanes = 16: dword lanes (vpermt2d); 32: word lanes (vpermt2w).
template <int kLanes, class LabelA, class LabelB, class Want>
__m512i MxPermIndex(LabelA la, LabelB lb, Want want) {
  alignas(64) uint16_t words[32] = {};
  alignas(64) int32_t dwords[16] = {};
  for (int t = 0; t < kLanes; ++t) {
    const MxLane w = want(t);
    for (int s2 = 0; s2 < 2 * kLanes; ++s2)
      if ((s2 < kLanes ? la(s2) : lb(s2 - kLanes)) == w) {
        if constexpr (kLanes == 16) dwords[t] = s2;
        else words[t] = uint16_t(s2);
      }
  }
  return kLanes == 16 ? _mm512_load_si512(dwords) : _mm512_load_si512(words);
}

// mxfp4's code table for vpermb: four copies of kFp4Codes, so the index bits above a nibble select nothing.
inline __m512i MxFp4CodeVector() {
  alignas(64) uint8_t table[64];
  for (int i = 0; i < 64; ++i) table[i] = kFp4Codes[i % 16];
  return _mm512_load_si512(table);
}

// mxint8: 16 rows x 8 quads of dwords. z[j] = rows 2j, 2j + 1; three stages to quad-major.
struct MxInt8Transpose {
  __m512i s1[2], s2[2], s3[2];  // per stage: the index for the lower and the upper output
  MxInt8Transpose() {
    // Stage 1: rows (4i, 4i+1) and (4i+2, 4i+3) -> rows 4i..4i+3, quads 0-3 and 4-7 (i = 0 labels).
    auto z0 = [](int t) { return MxLane{t / 8, t % 8}; };
    auto z1 = [](int t) { return MxLane{2 + t / 8, t % 8}; };
    for (int h = 0; h < 2; ++h)
      s1[h] = MxPermIndex<16>(z0, z1, [h](int t) { return MxLane{t / 4, 4 * h + t % 4}; });
    // Stage 2: rows 0-3 and 4-7 of the same 4 quads (0-3) -> rows 0-7, quads 0-1 and 2-3.
    auto a0 = [](int t) { return MxLane{t / 4, t % 4}; };
    auto a1 = [](int t) { return MxLane{4 + t / 4, t % 4}; };
    for (int h = 0; h < 2; ++h)
      s2[h] = MxPermIndex<16>(a0, a1, [h](int t) { return MxLane{t / 2, 2 * h + t % 2}; });
    // Stage 3: rows 0-7 and 8-15 of quads 0-1 -> all 16 rows of quad 0 and of quad 1.
    auto b0 = [](int t) { return MxLane{t / 2, t % 2}; };
    auto b1 = [](int t) { return MxLane{8 + t / 2, t % 2}; };
    for (int h = 0; h < 2; ++h) s3[h] = MxPermIndex<16>(b0, b1, [h](int t) { return MxLane{t, h}; });
  }
};

// mxfp4: 16 rows x 8 quads of words. z[j] = rows 4j..4j+3; two stages to [quad pair][16 rows].
struct MxFp4Transpose {
  __m512i s1[2], s2[2];
  MxFp4Transpose() {
    // Stage 1: rows 0-3 and 4-7 -> rows 0-7, quads 0-3 and 4-7.
    auto z0 = [](int t) { return MxLane{t / 8, t % 8}; };
    auto z1 = [](int t) { return MxLane{4 + t / 8, t % 8}; };
    for (int h = 0; h < 2; ++h)
      s1[h] = MxPermIndex<32>(z0, z1, [h](int t) { return MxLane{t / 4, 4 * h + t % 4}; });
    // Stage 2: rows 0-7 and 8-15 of quads 0-3 -> quads (0, 1) and (2, 3), 16 rows each.
    auto a0 = [](int t) { return MxLane{t / 4, t % 4}; };
    auto a1 = [](int t) { return MxLane{8 + t / 4, t % 4}; };
    for (int h = 0; h < 2; ++h)
      s2[h] = MxPermIndex<32>(a0, a1, [h](int t) { return MxLane{t % 16, 2 * h + t / 16}; });
  }
};

template <bool kFp4>
HWY_INLINE void DecodeMxPanelFast(const CpuArgs& a, int64_t tile, int64_t b, uint8_t* HWY_RESTRICT panel) {
  const int64_t row_bytes = MxRowBytes<kFp4>(a.s.k);
  if constexpr (kFp4) {
    static const MxFp4Transpose tr;
    const __m512i codes = MxFp4CodeVector();
    const __m512i nibbles = _mm512_set1_epi64(0x2C2824200C080400);  // bits 0, 4, 8, 12 of each 32
    for (int v = 0; v < 4; ++v) {
      const uint8_t* base = a.w + (tile * quant::kTileRows + 16 * v) * row_bytes + b * 16;
      __m512i z[4];
      for (int j = 0; j < 4; ++j) {
        const uint8_t* r = base + 4 * j * row_bytes;
        z[j] = _mm512_castsi128_si512(_mm_loadu_si128(reinterpret_cast<const __m128i*>(r)));
        z[j] = _mm512_inserti32x4(z[j], _mm_loadu_si128(reinterpret_cast<const __m128i*>(r + row_bytes)), 1);
        z[j] = _mm512_inserti32x4(z[j], _mm_loadu_si128(reinterpret_cast<const __m128i*>(r + 2 * row_bytes)), 2);
        z[j] = _mm512_inserti32x4(z[j], _mm_loadu_si128(reinterpret_cast<const __m128i*>(r + 3 * row_bytes)), 3);
      }
      // rows 0-7 / 8-15, quads 0-3 / 4-7
      const __m512i lo03 = _mm512_permutex2var_epi16(z[0], tr.s1[0], z[1]), lo47 = _mm512_permutex2var_epi16(z[0], tr.s1[1], z[1]);
      const __m512i hi03 = _mm512_permutex2var_epi16(z[2], tr.s1[0], z[3]), hi47 = _mm512_permutex2var_epi16(z[2], tr.s1[1], z[3]);
      const __m512i pairs[4] = {_mm512_permutex2var_epi16(lo03, tr.s2[0], hi03), _mm512_permutex2var_epi16(lo03, tr.s2[1], hi03),
                                _mm512_permutex2var_epi16(lo47, tr.s2[0], hi47), _mm512_permutex2var_epi16(lo47, tr.s2[1], hi47)};
      for (int p = 0; p < 4; ++p)
        for (int h = 0; h < 2; ++h) {
          const __m256i words = h == 0 ? _mm512_castsi512_si256(pairs[p]) : _mm512_extracti64x4_epi64(pairs[p], 1);
          const __m512i u = _mm512_permutexvar_epi8(_mm512_multishift_epi64_epi8(nibbles, _mm512_cvtepu16_epi32(words)), codes);
          _mm512_store_si512(panel + ((2 * p + h) * quant::kTileRows + 16 * v) * 4, u);
        }
    }
  } else {
    static const MxInt8Transpose tr;
    const __m512i flip = _mm512_set1_epi32(int32_t(0x80808080u));
    for (int v = 0; v < 4; ++v) {
      const uint8_t* base = a.w + (tile * quant::kTileRows + 16 * v) * row_bytes + b * 32;
      __m512i z[8];
      for (int j = 0; j < 8; ++j) {
        const uint8_t* r = base + 2 * j * row_bytes;
        z[j] = _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(r))),
                                  _mm256_loadu_si256(reinterpret_cast<const __m256i*>(r + row_bytes)), 1);
      }
      __m512i s1[8], s2[8];
      for (int i = 0; i < 4; ++i)  // rows 4i..4i+3: quads 0-3, 4-7
        for (int h = 0; h < 2; ++h) s1[2 * i + h] = _mm512_permutex2var_epi32(z[2 * i], tr.s1[h], z[2 * i + 1]);
      for (int i = 0; i < 2; ++i)    // rows 8i..8i+7
        for (int g = 0; g < 2; ++g)  // quads 4g..4g+3
          for (int h = 0; h < 2; ++h)
            s2[4 * i + 2 * g + h] = _mm512_permutex2var_epi32(s1[4 * i + g], tr.s2[h], s1[4 * i + 2 + g]);
      for (int g = 0; g < 4; ++g)  // quads 2g, 2g + 1: rows 0-7 in s2[g], rows 8-15 in s2[4 + g]
        for (int h = 0; h < 2; ++h)
          _mm512_store_si512(panel + ((2 * g + h) * quant::kTileRows + 16 * v) * 4,
                             _mm512_xor_si512(_mm512_permutex2var_epi32(s2[g], tr.s3[h], s2[4 + g]), flip));
    }
  }
}
#endif

// One 64-row tile of a block format against every row of the chunk. Every block (nvfp4: every 16
// weights) has its own scale per row: spans of kIdotSpanBlocks blocks whose scales multiply each
// block's (or half's) activation step (SpanEnds::bs), each span closing as a group of scale 1.
// Against closing every block as a group of its own (which stores and reloads 12 sums a block per
// three rows of X) 1.25-1.27x at m = 512 and 1.06-1.11x at m = 8-64 on AVX3_DL
// (bench/results/cpu/idot-mx-spans-2026-12-01-session28.txt); on AVX2, whose 16 registers do not
// hold a span's sums, 0.95-1.06x, kept so that every target sums in one order (the same bits).
// nvfp4's codes are mxfp4's (the same rows of nibbles); its two halves of a block are dotted apart.
template <bool kFp4, bool kNv = false>
void IdotTileBlocks(const CpuArgs& a, const IdotRows& r, int64_t tile, float* HWY_RESTRICT gacc, float* HWY_RESTRICT yacc) {
  static_assert(kFp4 || !kNv, "nvfp4 codes are FP4");
  constexpr int kRuns = kNv ? 2 : 1;  // scales per block of 32
  const int64_t n0 = tile * quant::kTileRows, valid = std::min(quant::kTileRows, a.s.n - n0);
  const int64_t row_bytes = MxRowBytes<kFp4>(a.s.k), block_bytes = kFp4 ? 16 : 32;
  const int32_t center = kFp4 ? kMxFp4Center : kMxInt8Center;
  // The weight of value v in a run whose scale byte is e is v * scale[e]: mxint8 2^(e-127) / 64,
  // mxfp4 2^(e-127) / 2, nvfp4 g * e4m3(e) / 2 (v being twice the FP4 value).
  HWY_ALIGN float scale[256];
  for (int e = 0; e < 256; ++e)
    scale[e] = kNv ? e4m3_table()[size_t(e)] * 0.5f * a.global_scale : e8m0_table()[size_t(e)] * (kFp4 ? 0.5f : 1.0f / 64);
  const int64_t runs_per_row = kNv ? (a.s.k + 15) / 16 : r.blocks;  // the scales' row length
  HWY_ALIGN uint8_t panels[kIdotSpanBlocks * kIdotPanelBytes];
  HWY_ALIGN float bs[kIdotSpanBlocks * kRuns * quant::kTileRows] = {};  // rows past n keep 0
  HWY_ALIGN float ones[quant::kTileRows];
  std::fill_n(ones, quant::kTileRows, 1.0f);
  const uint8_t* HWY_RESTRICT e8 = static_cast<const uint8_t*>(a.scales) + n0 * runs_per_row;  // [n][runs_per_row]
  for (int64_t b0 = 0; b0 < r.blocks;) {
    const int64_t b1 = std::min(r.blocks, b0 + kIdotSpanBlocks);
    for (int64_t b = b0; b < b1; ++b) {
      // Every row is a stream of its own: once a line, the line kIdotPrefetchBytes / 16 ahead.
      if ((b * block_bytes) % 64 == 0)
        for (int64_t i = 0; i < valid; ++i) PrefetchL2(a.w + (n0 + i) * row_bytes + std::min(row_bytes - 1, b * block_bytes + kIdotPrefetchBytes / 16));
      uint8_t* panel = panels + (b - b0) * kIdotPanelBytes;
#if HWY_TARGET == HWY_AVX3_DL
      if (valid == quant::kTileRows && (b + 1) * kIdotBlock <= a.s.k) DecodeMxPanelFast<kFp4>(a, tile, b, panel);
      else DecodeMxPanel<kFp4>(a, tile, b, panel);
#else
      DecodeMxPanel<kFp4>(a, tile, b, panel);
#endif
      for (int h = 0; h < kRuns; ++h) {
        const int64_t run = b * kRuns + h;
        if (run >= runs_per_row) break;  // nvfp4's half past k: never read (DotSpan skips it)
        float* s = bs + ((b - b0) * kRuns + h) * quant::kTileRows;
        for (int64_t i = 0; i < valid; ++i) s[i] = scale[e8[i * runs_per_row + run]];
      }
    }
    SpanEnds e;
    e.first = e.last = true;
    e.assign = b0 == 0;
    e.s = ones;
    e.bs = bs;
    SweepRows<kRuns>(panels, b0, b1, a.octets, r, center, PairQuads(kFp4 ? 28 : 255), e, gacc, yacc);
    b0 = b1;
  }
}

#if HWY_TARGET == HWY_AVX3_DL || HWY_TARGET == HWY_AVX2 || HWY_TARGET == HWY_AVX3
// ---- MX and nvfp4 GEMV: W's rows dotted where they lie (AVX3_DL; AVX2, for mxint8 only with AVX-VNNI; a few rows of X: MxGemvTakes)
// With a few rows of X the panel's transpose costs more than the dots it feeds. Here each row of W
// is read once, in order, a vector at a time (AVX3_DL: 64 bytes, mxint8's two blocks or mxfp4's four;
// AVX2: 32 bytes; mxfp4's low nibbles are its even elements and the high ones the odd), and vpdpbusd
// dots the codes with every row of X, whose int8 values are laid out once per call in the same order
// (mxfp4: each vector's even elements, then its odd ones). A 32-bit lane then holds part of one block
// (nvfp4's 16-element blocks: two lanes each); its int32, minus the block's center * sum(xq) (carried
// by the block's first lane), times the block's d * unit * scale, adds into f32 lanes that are
// summed once per output. The integer dots are the panel route's; the f32 sums run in
// another order.
// Up to 4 rows of X always; up to 8 while X's layout for it (int8 values, and per lane a correction and
// a step: 2 bytes an element of a row for FP4, 3 for mxint8) stays within 56 KiB, about what a 48 KiB
// L1 keeps with W's stream beside it. Past that the route reads X from L2 for every vector of W and
// loses to the panel, whose decode does not grow with the rows. Against the panel route (session 28,
// n = 4096, cold, Zen 5 VM; bench/results/cpu/mx-gemv-rows-2026-12-01-session28.txt): mxfp4 at k = 4096
// m = 5 / 6 / 7 1.36-1.71 / 1.45-1.69 / 1.22x, m = 8 at k = 2048 1.25-1.32x, nvfp4 m = 6 / 7 1.68-1.93 /
// 1.42-1.50x, mxint8 m = 6 at k = 2048 1.05-1.29x; AVX2 with AVX-VNNI 0.98-1.78x. Where the rule says no:
// m = 8 at k = 4096 (64 KiB) 0.86x, m = 5-6 at k = 14336 0.77-0.79x, mxint8 m = 5 / 6 at k = 4096
// 0.96-1.1 / 0.61-0.83x.
constexpr int64_t kMxGemvMaxRows = 4, kMxGemvMaxRowsInL1 = 8, kMxGemvXBytes = 56 << 10;
inline bool MxGemvTakes(const Shape& s) {
  const int64_t x_bytes = s.m * s.k * (s.fmt.scheme == quant::Scheme::mxint8 ? 3 : 2);
  return s.m <= kMxGemvMaxRows || (s.m <= kMxGemvMaxRowsInL1 && x_bytes <= kMxGemvXBytes);
}
// How far ahead the GEMV prefetches W's row (past its end into the next rows, where the thread goes
// next; a prefetch past W's end does not fault) and the row's scale bytes (a stream of their own).
// Against 2 KiB and no scale prefetch (which left perf's samples on the loads of W and of the scales):
// 1.13-1.6x at n = 4096, k = 4096 and 14336 on AVX3_DL (mxfp4 k = 14336 0.94-1.06 -> 0.77-0.85 ms,
// nvfp4 1.22-1.33 -> 0.75-0.82), 0.93-1.2x on AVX2 (bench/results/cpu/mx-gemv-prefetch-2026-12-01-session28.txt).
constexpr int64_t kMxGemvPrefetchBytes = 4096, kMxGemvScalePrefetchBytes = 512;

#if HWY_TARGET == HWY_AVX3_DL
constexpr int64_t kMxVecBytes = 64;
template <bool kVnni = true>
HWY_INLINE __m512i MxDpbusd(__m512i acc, __m512i u, __m512i x) {
  asm("vpdpbusd %2, %1, %0" : "+v"(acc) : "v"(u), "v"(x));  // as Dpbusd in cpu_lut.cpp
  return acc;
}
#else
constexpr int64_t kMxVecBytes = 32;
// AVX-VNNI's vpdpbusd; without it (kVnni false) the same sums by pmaddubsw and pmaddwd, exactly where
// no pair of products passes int16: FP4 codes (u <= 28, 2 * 28 * 127 < 32767), not mxint8's.
template <bool kVnni = true>
HWY_INLINE __m256i MxDpbusd(__m256i acc, __m256i u, __m256i x) {
  if constexpr (kVnni) {
    asm("%{vex%} vpdpbusd %2, %1, %0" : "+x"(acc) : "x"(u), "x"(x));  // AVX-VNNI, as DotQuad
    return acc;
  } else {
    return _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_maddubs_epi16(u, x), _mm256_set1_epi16(1)));
  }
}
#endif

// What MxGemvRows reads: W and its exponents, the rows of X laid out by MxGemv, and Y's first row.
struct MxGemvArgs {
  const uint8_t* w;
  const uint8_t* e8m0;
  const int8_t* xv;
  const int32_t* corr;
  const float* dv;
  float* y;
  int64_t n, blocks, row_bytes, vecs;
};

#if HWY_TARGET == HWY_AVX3_DL
// Rows [n0, n1) of W against MB rows of X, whose f32 sums stay in registers (a runtime count of rows
// kept them on the stack, a store and a reload on every vector's chain: 2-3x slower).
template <bool kFp4, bool kNv, int MB, bool kVnni = true>  // AVX3_DL: vpdpbusd always
HWY_NOINLINE void MxGemvRows(const MxGemvArgs& g, int64_t n0, int64_t n1) {
  constexpr int64_t kBlocksPerVec = kNv ? 8 : kFp4 ? 4 : 2, kLanesPerBlock = 16 / kBlocksPerVec, kXv = kFp4 ? 128 : 64;
  const int64_t blocks = g.blocks, row_bytes = g.row_bytes, vecs = g.vecs, n = g.n;
  const int8_t* HWY_RESTRICT xv = g.xv;
  const int32_t* HWY_RESTRICT corr = g.corr;
  const float* HWY_RESTRICT dv = g.dv;
  // The scale bytes of 16 blocks become 16 scales at once; vector p of those blocks (2 of nvfp4's, 4 of
  // mxfp4's, 8 of mxint8's) takes its 8, 4 or 2 blocks' scales, each over its lanes, by a permute.
  constexpr int kVecsPerSegment = int(16 / kBlocksPerVec);
  __m512i spread[kVecsPerSegment];
  for (int p = 0; p < kVecsPerSegment; ++p) {
    alignas(64) int32_t idx[16];
    for (int t = 0; t < 16; ++t) idx[t] = int32_t(p * kBlocksPerVec + t / kLanesPerBlock);
    spread[p] = _mm512_load_si512(idx);
  }
  const __m512i codes = MxFp4CodeVector();
  const __m512i bias = _mm512_set1_epi32(127), nan_code = _mm512_set1_epi32(255);
  const __m512 one = _mm512_set1_ps(1.0f), nan = _mm512_set1_ps(std::numeric_limits<float>::quiet_NaN());
  for (int64_t nn = n0; nn < n1; ++nn) {
    const uint8_t* HWY_RESTRICT w = g.w + nn * row_bytes;
    const uint8_t* HWY_RESTRICT e8 = g.e8m0 + nn * blocks;
    __m512 f[MB];
    for (int m = 0; m < MB; ++m) f[m] = _mm512_setzero_ps();
    for (int64_t s0 = 0; s0 < blocks; s0 += 16) {
      // 2^(e-127) per block, exactly (e = 0: 2^-127), NaN for e = 255 (blocks past the row: e = 0, dots 0).
      const int64_t nbs = std::min<int64_t>(16, blocks - s0);
      PrefetchL2(e8 + s0 + kMxGemvScalePrefetchBytes);
      const __m512i e = _mm512_cvtepu8_epi32(_mm_maskz_loadu_epi8(_cvtu32_mask16(uint32_t((1ull << nbs) - 1)), e8 + s0));
      __m512 s16;
      if constexpr (kNv) {
        // e4m3 (sign, 4 exponent bits with bias 7, 3 mantissa bits) as f32, exactly: normal
        // magnitudes move into f32's fields (the exponent rebiased by 120), subnormal ones are
        // m * 2^-9; 0x7f and 0xff are NaN.
        const __m512i mag = _mm512_and_si512(e, _mm512_set1_epi32(0x7f));
        const __m512 normal = _mm512_castsi512_ps(_mm512_add_epi32(_mm512_slli_epi32(mag, 20), _mm512_set1_epi32(120 << 23)));
        const __m512 sub = _mm512_mul_ps(_mm512_cvtepi32_ps(mag), _mm512_set1_ps(0x1p-9f));
        s16 = _mm512_mask_mov_ps(normal, _mm512_cmplt_epi32_mask(mag, _mm512_set1_epi32(8)), sub);
        s16 = _mm512_castsi512_ps(_mm512_or_si512(_mm512_castps_si512(s16), _mm512_slli_epi32(_mm512_srli_epi32(e, 7), 31)));
        s16 = _mm512_mask_mov_ps(s16, _mm512_cmpeq_epi32_mask(mag, _mm512_set1_epi32(0x7f)), nan);
      } else {
        s16 = _mm512_scalef_ps(one, _mm512_cvtepi32_ps(_mm512_sub_epi32(e, bias)));
        s16 = _mm512_mask_mov_ps(s16, _mm512_cmpeq_epi32_mask(e, nan_code), nan);
      }
      for (int p = 0; p < kVecsPerSegment; ++p) {
        const int64_t v = s0 / kBlocksPerVec + p, at = v * 64;
        if (v >= vecs) break;
        PrefetchL2(w + at + kMxGemvPrefetchBytes);
        const __m512i wv = at + 64 <= row_bytes ? _mm512_loadu_si512(w + at)
                                                : _mm512_maskz_loadu_epi8(_cvtu64_mask64((~0ull) >> (64 - (row_bytes - at))), w + at);
        const __m512 sv = _mm512_permutexvar_ps(spread[p], s16);
        __m512i u0, u1 = _mm512_setzero_si512();
        if constexpr (kFp4) {
          // vpermb reads index bits 0-5: the table repeats every 16, so the bits above a nibble select nothing.
          u0 = _mm512_permutexvar_epi8(wv, codes);
          u1 = _mm512_permutexvar_epi8(_mm512_srli_epi16(wv, 4), codes);
        } else {
          u0 = _mm512_xor_si512(wv, _mm512_set1_epi32(int32_t(0x80808080u)));
        }
        for (int m = 0; m < MB; ++m) {
          const int64_t j = m * vecs + v;
          __m512i acc = MxDpbusd(_mm512_setzero_si512(), u0, _mm512_load_si512(xv + j * kXv));
          if constexpr (kFp4) acc = MxDpbusd(acc, u1, _mm512_load_si512(xv + j * kXv + 64));
          const __m512 dot = _mm512_cvtepi32_ps(_mm512_sub_epi32(acc, _mm512_load_si512(corr + j * 16)));
          f[m] = _mm512_fmadd_ps(dot, _mm512_mul_ps(_mm512_load_ps(dv + j * 16), sv), f[m]);
        }
      }
    }
    for (int m = 0; m < MB; ++m) g.y[m * n + nn] = _mm512_reduce_add_ps(f[m]);
  }
}

#else
// The same on AVX2 and the AVX3 target (dots by AVX-VNNI, or by pmaddubsw for FP4 codes: kVnni false):
// 32-byte vectors of W (mxfp4: two blocks, mxint8: one), eight
// blocks' exponents a segment, pshufb for mxfp4's codes (it zeroes on bit 7: the nibbles are masked).
template <bool kFp4, bool kNv, int MB, bool kVnni>
HWY_NOINLINE void MxGemvRows(const MxGemvArgs& g, int64_t n0, int64_t n1) {
  static_assert(kVnni || kFp4, "without VNNI only FP4 codes fit pmaddubsw");
  constexpr int64_t kBlocksPerVec = kNv ? 4 : kFp4 ? 2 : 1, kLanesPerBlock = 8 / kBlocksPerVec, kXv = kFp4 ? 64 : 32;
  constexpr int kVecsPerSegment = int(8 / kBlocksPerVec);
  const int64_t blocks = g.blocks, row_bytes = g.row_bytes, vecs = g.vecs, n = g.n;
  const int8_t* HWY_RESTRICT xv = g.xv;
  const int32_t* HWY_RESTRICT corr = g.corr;
  const float* HWY_RESTRICT dv = g.dv;
  __m256i spread[kVecsPerSegment];
  for (int p = 0; p < kVecsPerSegment; ++p) {
    alignas(32) int32_t idx[8];
    for (int t = 0; t < 8; ++t) idx[t] = int32_t(p * kBlocksPerVec + t / kLanesPerBlock);
    spread[p] = _mm256_load_si256(reinterpret_cast<const __m256i*>(idx));
  }
  const __m256i codes = _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(kFp4Codes)));
  const __m256i nibble = _mm256_set1_epi8(0x0f), quiet = _mm256_set1_epi32(0x00400000), nan_code = _mm256_set1_epi32(255);
  for (int64_t nn = n0; nn < n1; ++nn) {
    const uint8_t* HWY_RESTRICT w = g.w + nn * row_bytes;
    const uint8_t* HWY_RESTRICT e8 = g.e8m0 + nn * blocks;
    __m256 f[MB];
    for (int m = 0; m < MB; ++m) f[m] = _mm256_setzero_ps();
    for (int64_t s0 = 0; s0 < blocks; s0 += 8) {
      // 2^(e-127) as float bits e << 23: e = 0 gives 0, raised to 2^-127's bits (0x00400000) by the max;
      // e = 255 gives infinity, made NaN by the quiet bit. Blocks past the row: e = 0, dots 0.
      uint64_t eq = 0;
      PrefetchL2(e8 + s0 + kMxGemvScalePrefetchBytes);
      std::memcpy(&eq, e8 + s0, size_t(std::min<int64_t>(8, blocks - s0)));
      const __m256i e = _mm256_cvtepu8_epi32(_mm_cvtsi64_si128(int64_t(eq)));
      __m256 s8;
      if constexpr (kNv) {
        // e4m3 as f32, exactly, as on AVX3_DL.
        const __m256i mag = _mm256_and_si256(e, _mm256_set1_epi32(0x7f));
        const __m256 normal = _mm256_castsi256_ps(_mm256_add_epi32(_mm256_slli_epi32(mag, 20), _mm256_set1_epi32(120 << 23)));
        const __m256 sub = _mm256_mul_ps(_mm256_cvtepi32_ps(mag), _mm256_set1_ps(0x1p-9f));
        s8 = _mm256_blendv_ps(normal, sub, _mm256_castsi256_ps(_mm256_cmpgt_epi32(_mm256_set1_epi32(8), mag)));
        s8 = _mm256_or_ps(s8, _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_srli_epi32(e, 7), 31)));
        s8 = _mm256_blendv_ps(s8, _mm256_set1_ps(std::numeric_limits<float>::quiet_NaN()),
                              _mm256_castsi256_ps(_mm256_cmpeq_epi32(mag, _mm256_set1_epi32(0x7f))));
      } else {
        __m256i bits = _mm256_max_epu32(_mm256_slli_epi32(e, 23), quiet);
        bits = _mm256_or_si256(bits, _mm256_and_si256(_mm256_cmpeq_epi32(e, nan_code), quiet));
        s8 = _mm256_castsi256_ps(bits);
      }
      for (int p = 0; p < kVecsPerSegment; ++p) {
        const int64_t v = s0 / kBlocksPerVec + p, at = v * 32;
        if (v >= vecs) break;
        PrefetchL2(w + at + kMxGemvPrefetchBytes);
        __m256i wv;
        if (at + 32 <= row_bytes) {
          wv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w + at));
        } else {
          alignas(32) uint8_t tail[32] = {};
          std::memcpy(tail, w + at, size_t(row_bytes - at));
          wv = _mm256_load_si256(reinterpret_cast<const __m256i*>(tail));
        }
        const __m256 sv = _mm256_permutevar8x32_ps(s8, spread[p]);
        __m256i u0, u1 = _mm256_setzero_si256();
        if constexpr (kFp4) {
          u0 = _mm256_shuffle_epi8(codes, _mm256_and_si256(wv, nibble));
          u1 = _mm256_shuffle_epi8(codes, _mm256_and_si256(_mm256_srli_epi16(wv, 4), nibble));
        } else {
          u0 = _mm256_xor_si256(wv, _mm256_set1_epi32(int32_t(0x80808080u)));
        }
        for (int m = 0; m < MB; ++m) {
          const int64_t j = m * vecs + v;
          __m256i acc = MxDpbusd<kVnni>(_mm256_setzero_si256(), u0, _mm256_load_si256(reinterpret_cast<const __m256i*>(xv + j * kXv)));
          if constexpr (kFp4)
            acc = MxDpbusd<kVnni>(acc, u1, _mm256_load_si256(reinterpret_cast<const __m256i*>(xv + j * kXv + 32)));
          const __m256 dot = _mm256_cvtepi32_ps(_mm256_sub_epi32(acc, _mm256_load_si256(reinterpret_cast<const __m256i*>(corr + j * 8))));
          f[m] = _mm256_fmadd_ps(dot, _mm256_mul_ps(_mm256_load_ps(dv + j * 8), sv), f[m]);
        }
      }
    }
    for (int m = 0; m < MB; ++m) {
      __m128 t = _mm_add_ps(_mm256_castps256_ps128(f[m]), _mm256_extractf128_ps(f[m], 1));
      t = _mm_add_ps(t, _mm_movehl_ps(t, t));
      g.y[m * n + nn] = _mm_cvtss_f32(_mm_add_ss(t, _mm_movehdup_ps(t)));
    }
  }
}
#endif

// Rows [m0, m0 + r.rows) of Y from the chunk's quantized rows r. nvfp4 (kNv): blocks of 16, whose
// activations r quantized per 16 (IdotRows::step16, qsum16), scales e4m3 times the tensor's.
template <bool kFp4, bool kNv = false>
void MxGemv(const CpuArgs& a, const IdotRows& r, int64_t m0, int threads) {
  static_assert(kFp4 || !kNv, "nvfp4 codes are FP4");
  constexpr int64_t kBlock = kNv ? 16 : kIdotBlock;  // weights per scale
  constexpr int64_t kLanes = kMxVecBytes / 4, kBlocksPerVec = kMxVecBytes * (kFp4 ? 2 : 1) / kBlock;
  constexpr int64_t kLanesPerBlock = kLanes / kBlocksPerVec;
  const int64_t n = a.s.n, rows = r.rows, blocks = (a.s.k + kBlock - 1) / kBlock, row_bytes = MxRowBytes<kFp4>(a.s.k);
  const int64_t vecs = (blocks + kBlocksPerVec - 1) / kBlocksPerVec;
  const int32_t center = kFp4 ? kMxFp4Center : kMxInt8Center;
  const float unit = kNv ? 0.5f * a.global_scale : kFp4 ? 0.5f : 1.0f / 64;
  const float* step = kNv ? r.step16 : r.step;
  const int32_t* qsum = kNv ? r.qsum16 : r.qsum;
  const int64_t steps_per_row = kNv ? 2 * r.blocks : r.blocks;
  // Per row of X and vector of W: its int8 values (FP4: twice the vector's bytes, even then odd),
  // and per lane the correction and d * unit (zero past the last block).
  const int64_t xv_stride = kFp4 ? 2 * kMxVecBytes : kMxVecBytes;
  auto* xv = static_cast<int8_t*>(scratch_bytes<13>(size_t(rows * vecs * xv_stride)));
  auto* corr = static_cast<int32_t*>(scratch_bytes<14>(size_t(rows * vecs * kLanes) * sizeof(int32_t)));
  auto* dv = static_cast<float*>(scratch_bytes<15>(size_t(rows * vecs * kLanes) * sizeof(float)));
  for (int64_t m = 0; m < rows; ++m)
    for (int64_t v = 0; v < vecs; ++v) {
      int8_t* x = xv + (m * vecs + v) * xv_stride;
      for (int64_t i = 0; i < kBlocksPerVec; ++i) {
        const int64_t b = v * kBlocksPerVec + i, lane = (m * vecs + v) * kLanes + i * kLanesPerBlock;
        const bool in = b < blocks;
        for (int64_t l = 0; l < kLanesPerBlock; ++l) {
          dv[lane + l] = in ? step[m * steps_per_row + b] * unit : 0.0f;
          corr[lane + l] = in && l == 0 ? center * qsum[m * steps_per_row + b] : 0;
        }
        // Blocks past the row (a vector's last) get zeros; no pointer is formed past the chunk's buffer.
        const int8_t* xb = in ? r.xq + (b * kBlock / kIdotBlock) * r.block_stride + m * kIdotBlock + (b * kBlock) % kIdotBlock : nullptr;
        for (int64_t j = 0; j < kBlock; ++j) {
          const int8_t q = xb != nullptr ? xb[j] : int8_t{0};
          const int64_t e = i * kBlock + j;  // the element's place among the vector's
          if (kFp4) x[(e % 2) * kMxVecBytes + e / 2] = q;
          else x[e] = q;
        }
      }
    }
  const MxGemvArgs g{a.w, static_cast<const uint8_t*>(a.scales), xv, corr, dv, a.y + m0 * n, n, blocks, row_bytes, vecs};
  auto rows_of = [&](auto vnni, int64_t n0, int64_t n1) {
    constexpr bool V = decltype(vnni)::value;
    switch (rows) {
      case 1: MxGemvRows<kFp4, kNv, 1, V>(g, n0, n1); break;
      case 2: MxGemvRows<kFp4, kNv, 2, V>(g, n0, n1); break;
      case 3: MxGemvRows<kFp4, kNv, 3, V>(g, n0, n1); break;
      case 4: MxGemvRows<kFp4, kNv, 4, V>(g, n0, n1); break;
      case 5: MxGemvRows<kFp4, kNv, 5, V>(g, n0, n1); break;
      case 6: MxGemvRows<kFp4, kNv, 6, V>(g, n0, n1); break;
      case 7: MxGemvRows<kFp4, kNv, 7, V>(g, n0, n1); break;
      default: MxGemvRows<kFp4, kNv, 8, V>(g, n0, n1); break;
    }
  };
  cpu::parallel_for(n, threads, [&](int64_t n0, int64_t n1) {
    // Without VNNI (AVX2 CPUs without AVX-VNNI; the AVX3 target): FP4 codes only (IdotGemm sends
    // mxint8 to the panel there).
    if constexpr (HWY_TARGET == HWY_AVX3) {
      if constexpr (kFp4) rows_of(std::false_type{}, n0, n1);
      else HWY_ABORT("cpu.idot: the mxint8 GEMV needs VNNI (IdotGemm takes the panel route without it)");
    } else {
      if constexpr (HWY_TARGET == HWY_AVX2 && kFp4) {
        if (!r.avx_vnni) return rows_of(std::false_type{}, n0, n1);
      }
      rows_of(std::true_type{}, n0, n1);
    }
  });
}
#endif

// Quantizes rows [m0, m1) of the chunk of X (`rows` rows from row `row0`) into the chunk's buffers
// (IdotRows' layout: row m's block b at xq + b * rows * 32, step and qsum + m * blocks, xsum + m *
// groups; with `halves`, step and qsum per 16: IdotRows::step16 and qsum16); tmp holds blocks * 32
// floats. Per block of 32 (or half of one): d = max|x| / 127 and xq = x / d rounded to
// nearest even; a block holding an infinity or NaN gets d = NaN and zeros (its outputs become NaN,
// never a finite wrong value). Rows are independent, so any split of them across threads gives the
// same bytes.
void QuantizeActivationRows(const CpuArgs& a, int64_t row0, int64_t rows, int64_t m0, int64_t m1, int8_t* HWY_RESTRICT xq,
                            float* HWY_RESTRICT step, int32_t* HWY_RESTRICT qsum, float* HWY_RESTRICT xsum, float* HWY_RESTRICT tmp,
                            bool halves) {
  const DF df;
  const hn::RebindToSigned<DF> di;
  const hn::Rebind<int8_t, decltype(di)> d8;
  constexpr int64_t L = int64_t(hn::MaxLanes(DF()));
  static_assert(kIdotBlock % (2 * L) == 0, "a vector within a half block");
  const int64_t blocks = (a.s.k + kIdotBlock - 1) / kIdotBlock, ldq = blocks * kIdotBlock;
  const int64_t group_len = a.s.fmt.group_len(a.s.k);
  const int64_t sub = halves ? kIdotBlock / 2 : kIdotBlock, subs = blocks * (kIdotBlock / sub);
  const auto finite_max = hn::Set(df, std::numeric_limits<float>::max());
  for (int64_t m = m0; m < m1; ++m) {
    activation_row(a, row0 + m, tmp, ldq);
    for (int64_t j = 0; j < subs; ++j) {
      const float* HWY_RESTRICT x = tmp + j * sub;
      const int64_t b = j * sub / kIdotBlock;
      int8_t* HWY_RESTRICT q = xq + (b * rows + m) * kIdotBlock + (j * sub) % kIdotBlock;
      auto vmax = hn::Zero(df);
      auto finite = hn::Eq(vmax, vmax);
      for (int64_t i = 0; i < sub; i += L) {
        const auto v = hn::Abs(hn::LoadU(df, x + i));
        finite = hn::And(finite, hn::Le(v, finite_max));  // false for inf and NaN
        vmax = hn::Max(vmax, v);
      }
      const float amax = hn::GetLane(hn::MaxOfLanes(df, vmax));
      const bool ok = hn::AllTrue(df, finite);
      // inv == 0 (an all-zero block, or one holding inf/NaN) gives zeros, never a NaN converted to int.
      const auto inv = hn::Set(df, ok && amax > 0 ? 127.0f / amax : 0.0f);
      auto vsum = hn::Zero(di);
      for (int64_t i = 0; i < sub; i += L) {
        // |x * inv| <= 127 up to rounding; the clamp keeps the last ulp in range.
        const auto v = hn::Min(hn::Max(hn::Mul(hn::LoadU(df, x + i), inv), hn::Set(df, -127.0f)), hn::Set(df, 127.0f));
        const auto qi = hn::NearestInt(v);
        vsum = hn::Add(vsum, qi);
        hn::StoreU(hn::DemoteTo(d8, qi), d8, q + i);
      }
      step[m * subs + j] = ok ? amax / 127.0f : std::numeric_limits<float>::quiet_NaN();
      qsum[m * subs + j] = hn::GetLane(hn::SumOfLanes(di, vsum));
    }
    if (a.s.fmt.has_zeros())
      for (int64_t g = 0; g < a.groups; ++g) {
        float sx = 0;
        for (int64_t k = g * group_len; k < std::min(a.s.k, (g + 1) * group_len); ++k) sx += tmp[k];
        xsum[m * a.groups + g] = sx;
      }
  }
}

using IdotFn = void (*)(const CpuArgs&, const IdotRows&, int64_t, float*, float*);

void IdotGemm(const CpuArgs& a) {
  const Shape& s = a.s;
  const int threads = call_threads(a, cpu::hardware_threads());
  IdotFn fn = nullptr;
  if (s.fmt.scheme == quant::Scheme::mxfp4) fn = &IdotTileBlocks<true>;
  else if (s.fmt.scheme == quant::Scheme::mxint8) fn = &IdotTileBlocks<false>;
  else if (s.fmt.scheme == quant::Scheme::nvfp4) fn = &IdotTileBlocks<true, true>;
  else switch (s.fmt.bits) {
    case 2: fn = &IdotTile<1, false>; break;
    case 3: fn = &IdotTile<1, true>; break;
    case 4: fn = &IdotTile<2, false>; break;
    case 5: fn = &IdotTile<2, true>; break;
    case 6: fn = &IdotTile<3, false>; break;
    case 7: fn = &IdotTile<3, true>; break;
    default: fn = &IdotTile<4, false>; break;
  }
  const int64_t blocks = (s.k + kIdotBlock - 1) / kIdotBlock, ldq = blocks * kIdotBlock;
  // Rows of X per chunk. A tile's panels are decoded once per chunk, and its sweep reads the chunk's
  // int8 rows a span (4 blocks of 32 bytes a row) at a time, block-major, so they need not fit L2:
  // chunks of 256 rows instead of 1 MiB (73 rows at k = 14336) measured 1.07-1.08x there.
  const int64_t chunk = a.chunk > 0 ? a.chunk : std::min<int64_t>(s.m, kIdotChunkRows);
  auto* xq = static_cast<int8_t*>(scratch_bytes<7>(size_t(chunk * ldq)));
  auto* step = static_cast<float*>(scratch_bytes<8>(size_t(chunk * 2 * blocks) * sizeof(float)));
  auto* qsum = static_cast<int32_t*>(scratch_bytes<9>(size_t(chunk * 2 * blocks) * sizeof(int32_t)));
  auto* xsum = static_cast<float*>(scratch_bytes<10>(size_t(chunk * a.groups) * sizeof(float)));
  // nvfp4 quantizes activations per 16, as its weights are scaled (two halves a block): its steps and
  // sums take twice the room.
  const bool halves = s.fmt.scheme == quant::Scheme::nvfp4;
#if HWY_TARGET == HWY_AVX2
  // Read once a call, not per tile (getenv walks the environment). TESSEL_CPU_NO_AVX_VNNI keeps the
  // emulation, so that a test can compare the two on one CPU.
  static const bool has_avx_vnni = __builtin_cpu_supports("avxvnni");
  const bool avx_vnni = has_avx_vnni && std::getenv("TESSEL_CPU_NO_AVX_VNNI") == nullptr;
#else
  const bool avx_vnni = false;
#endif
  for (int64_t mc0 = 0; mc0 < s.m; mc0 += chunk) {
    const int64_t rows = std::min(chunk, s.m - mc0);
    // The chunk's rows quantize on every thread: done on the calling thread alone, they left the other
    // core idle for about a tenth of a prefill call (m = 512, n = k = 4096 on the Zen 5 VM, perf).
    // Below about 64 Ki elements waking a thread costs more than it saves.
    auto quantize = [&](int64_t m0, int64_t m1) {
      auto* tmp = static_cast<float*>(scratch_bytes<11>(size_t(ldq) * sizeof(float)));
      QuantizeActivationRows(a, mc0, rows, m0, m1, xq, step, qsum, xsum, tmp, halves);
    };
    if (rows * ldq >= (int64_t{1} << 16)) cpu::parallel_for(rows, threads, quantize);
    else quantize(0, rows);
    IdotRows r{xq, rows * kIdotBlock, rows, blocks, step, qsum, xsum, a.groups};
    if (halves) r.step = nullptr, r.qsum = nullptr, r.step16 = step, r.qsum16 = qsum;
    r.avx_vnni = avx_vnni;
#if HWY_TARGET == HWY_AVX3_DL || HWY_TARGET == HWY_AVX2 || HWY_TARGET == HWY_AVX3
    // By the problem's rows, not the chunk's, so that chunking changes no bits.
    // Without VNNI (AVX2 CPUs without AVX-VNNI, the AVX3 target's AVX-512 CPUs without VBMI): FP4
    // codes by pmaddubsw in 32-byte vectors (mxint8's would overflow it; the panel emulates).
    const bool fp4 = s.fmt.scheme == quant::Scheme::mxfp4 || s.fmt.scheme == quant::Scheme::nvfp4;
    const bool mx_gemv = MxGemvTakes(s) && (HWY_TARGET == HWY_AVX3_DL || avx_vnni || fp4);
    if (mx_gemv && s.fmt.scheme == quant::Scheme::mxfp4) {
      MxGemv<true>(a, r, mc0, threads);
      continue;
    }
    if (mx_gemv && s.fmt.scheme == quant::Scheme::mxint8) {
      MxGemv<false>(a, r, mc0, threads);
      continue;
    }
    if (mx_gemv && s.fmt.scheme == quant::Scheme::nvfp4) {
      MxGemv<true, true>(a, r, mc0, threads);
      continue;
    }
#endif
    cpu::parallel_for(a.tiles, threads, [&](int64_t t0, int64_t t1) {
      auto* acc = static_cast<float*>(scratch_bytes<12>(size_t(2 * rows * quant::kTileRows) * sizeof(float)));
      float* gacc = acc;
      float* yacc = acc + rows * quant::kTileRows;
      for (int64_t tile = t0; tile < t1; ++tile) {
        // The outputs gather in yacc (rows 256 bytes apart) and are copied out once: written straight
        // into y every group, rows n floats apart (4 KiB-aliased at n = 4096) made each load of y wait
        // on the stores before it: 0.95-1.00x at m = 512 (session 24).
        const int64_t n0 = tile * quant::kTileRows, valid = std::min(quant::kTileRows, s.n - n0);
        fn(a, r, tile, gacc, yacc);
        for (int64_t m = 0; m < rows; ++m)
          std::memcpy(a.y + (mc0 + m) * s.n + n0, yacc + m * quant::kTileRows, size_t(valid) * sizeof(float));
      }
    });
  }
}

const char* IdotTargetName() { return hwy::TargetName(HWY_TARGET); }

}  // namespace tessel::qgemm::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

// ---- Registration (compiled once) -----------------------------------------------------------------
#if HWY_ONCE
namespace tessel::qgemm {

HWY_EXPORT(IdotGemm);
HWY_EXPORT(IdotTargetName);

const char* idot_target_name() { return HWY_DYNAMIC_DISPATCH(IdotTargetName)(); }

namespace {

class CpuIdot final : public Implementation {
 public:
  std::string name() const override { return "cpu.idot"; }
  std::string op() const override { return "qgemm"; }
  Device device() const override { return Device::cpu; }
  // Below cpu.lut (the 1..4-bit GEMV route) and above cpu.dequant (f32, slower for 5..8 bits).
  int priority() const override { return 15; }

  Support supports(const Problem& p) const override {
    const Shape s = Shape::from(p);
    if (s.fmt.scheme == quant::Scheme::ternary5)
      return Support::no("cpu.idot takes int and uint codes; ternary5 goes to cpu.lut or cpu.dequant");
    if (!s.fmt.planar()) return Support::yes();  // mxfp4, mxint8, nvfp4
    if (s.fmt.scheme == quant::Scheme::ternary)
      return Support::no("cpu.idot takes int and uint codes; ternary (bit0 - bit1) is not one code per weight: use cpu.lut");
    if (s.fmt.bits < 2)
      return Support::no("cpu.idot takes 2..8-bit codes; int1/uint1 go to cpu.lut");
    if (s.fmt.group % kIdotBlock != 0)  // every planar group is today; a guard for new ones
      return Support::no("cpu.idot needs groups of a multiple of 32 weights (one int8 step per 32 activations)");
    return Support::yes();
  }

  std::vector<Tunable> config_space(const Problem&) const override {
    // Rows of X quantized to int8 and swept over every tile together (0: kIdotChunkRows).
    return {{"chunk", {0, 4, 16, 64, 256, 512}}};
  }

  Status run(const Problem& p, const Config& config, std::span<const TensorView> t, const RunContext& ctx) const override {
    CpuArgs a;
    TESSEL_RETURN_IF_ERROR(CpuArgs::decode(p, config, t, ctx, "cpu.idot", &a));
    const Support sup = supports(p);
    if (!sup.ok) return Status::unsupported("qgemm", "cpu.idot", sup.reason);
    HWY_DYNAMIC_DISPATCH(IdotGemm)(a);
    return {};
  }
};

}  // namespace

void register_cpu_idot(Registry& r) { r.add_impl(std::make_unique<CpuIdot>()); }

}  // namespace tessel::qgemm
#endif  // HWY_ONCE
