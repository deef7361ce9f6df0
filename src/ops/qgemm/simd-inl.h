// Per-target SIMD helpers the CPU qgemm kernels share (included once per Highway target).
//
// Include this after hwy/highway.h from inside a file compiled with foreach_target.h; the guard
// toggles per target, as Highway's own -inl.h headers do.
#if defined(TESSEL_OPS_QGEMM_SIMD_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef TESSEL_OPS_QGEMM_SIMD_INL_H_
#undef TESSEL_OPS_QGEMM_SIMD_INL_H_
#else
#define TESSEL_OPS_QGEMM_SIMD_INL_H_
#endif

#include <cstring>

#include "cpu_common.hpp"
#include "hwy/highway.h"

HWY_BEFORE_NAMESPACE();
namespace tessel::qgemm::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// Prefetches the line at p into L2. The GEMV kernels stream their weights a few KiB ahead of use:
// the hardware prefetcher stops at 4 KiB pages (measured in cpu_lut.cpp, kPrefetchBytes).
HWY_INLINE void PrefetchL2(const void* p) {
#if HWY_ARCH_X86
  _mm_prefetch(static_cast<const char*>(p), _MM_HINT_T1);
#else
  hwy::Prefetch(p);
#endif
}

// The 64 scales (or zero points) of one planar tile and group, as f32.
template <class DF>
HWY_INLINE void LoadTileGroup(DF df, const CpuArgs& a, const void* src, int64_t tile, int64_t g, float* HWY_RESTRICT out) {
  constexpr int64_t L = int64_t(hn::MaxLanes(DF()));
  const int64_t base = (tile * a.groups + g) * quant::kTileRows;
  switch (a.s.fmt.scale_dtype) {
    case DType::f16: {
      const hn::Rebind<hwy::float16_t, DF> dh;
      const auto* p = static_cast<const hwy::float16_t*>(src) + base;
      for (int64_t r = 0; r < quant::kTileRows; r += L) hn::Store(hn::PromoteTo(df, hn::LoadU(dh, p + r)), df, out + r);
      break;
    }
    case DType::bf16: {
      const hn::Rebind<hwy::bfloat16_t, DF> db;
      const auto* p = static_cast<const hwy::bfloat16_t*>(src) + base;
      for (int64_t r = 0; r < quant::kTileRows; r += L) hn::Store(hn::PromoteTo(df, hn::LoadU(db, p + r)), df, out + r);
      break;
    }
    default: std::memcpy(out, static_cast<const float*>(src) + base, quant::kTileRows * sizeof(float));
  }
}

#if HWY_TARGET != HWY_SCALAR

// pmaddubsw: a[2i]*b[2i] + a[2i+1]*b[2i+1] as int16, a unsigned and b signed bytes. Callers keep
// |result| far below its saturation point.
template <class D16, class V8, class VI8>
HWY_INLINE hn::Vec<D16> MulPairs(D16 d16, V8 a, VI8 b) {
#if HWY_TARGET == HWY_AVX3 || HWY_TARGET == HWY_AVX3_DL
  (void)d16;
  return hn::Vec<D16>{_mm512_maddubs_epi16(a.raw, b.raw)};
#elif HWY_TARGET == HWY_AVX2
  (void)d16;
  return hn::Vec<D16>{_mm256_maddubs_epi16(a.raw, b.raw)};
#elif HWY_TARGET == HWY_SSE4 || HWY_TARGET == HWY_SSSE3
  (void)d16;
  return hn::Vec<D16>{_mm_maddubs_epi16(a.raw, b.raw)};
#else
  const hn::RebindToUnsigned<D16> du16;
  const auto au = hn::BitCast(du16, a);
  const auto a_even = hn::BitCast(d16, hn::And(au, hn::Set(du16, 0xff)));
  const auto a_odd = hn::BitCast(d16, hn::ShiftRight<8>(au));
  const auto b16 = hn::BitCast(d16, b);
  const auto b_even = hn::ShiftRight<8>(hn::ShiftLeft<8>(b16)), b_odd = hn::ShiftRight<8>(b16);
  return hn::Add(hn::Mul(a_even, b_even), hn::Mul(a_odd, b_odd));
#endif
}

// Signed bytes whose pairs are (lo, hi): pmaddubsw's weights for the two bytes of each int16 lane.
template <class D16>
HWY_INLINE hn::Vec<hn::Repartition<int8_t, D16>> PairOf(D16 d16, int lo, int hi) {
  const uint16_t bits = uint16_t(uint16_t(uint8_t(int8_t(lo))) | uint16_t(uint8_t(int8_t(hi))) << 8);
  return hn::BitCast(hn::Repartition<int8_t, D16>(), hn::Set(d16, int16_t(bits)));
}

#endif  // HWY_TARGET != HWY_SCALAR

}  // namespace tessel::qgemm::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#endif  // TESSEL_OPS_QGEMM_SIMD_INL_H_
