// Per-target Highway loads and stores between f32 vectors and f32/bf16 memory, shared by the CPU kernels.
//
// Every CPU kernel computes in f32 and stores either f32 or bf16, and they must all round bf16 the
// same way (as dtype.cpp does), so the loads, the rounding and the stores live here once. Include
// this after "hwy/foreach_target.h" and "hwy/highway.h": like Highway's own -inl headers it is
// compiled again for every target, into tessel::cpu::HWY_NAMESPACE.

// ---- Target-independent part (compiled once) ------------------------------------------------------
#ifndef TESSEL_CPU_SIMD_IO_SHARED_
#define TESSEL_CPU_SIMD_IO_SHARED_

#include <cstdint>
#include <cstring>

namespace tessel::cpu {

// Outputs at least this large are written with streaming stores when an op's "stream" tunable is
// auto: they would not stay in cache for the next op anyway.
inline constexpr double kStreamBytes = 8.0 * 1024 * 1024;

}  // namespace tessel::cpu

#endif  // TESSEL_CPU_SIMD_IO_SHARED_

// ---- Per-target part (compiled once for every Highway target) -------------------------------------
// The toggle guard lets foreach_target.h include this once per target, and a plain include (no
// HWY_TARGET_TOGGLE) once for the static target.
#if defined(TESSEL_CPU_SIMD_IO_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef TESSEL_CPU_SIMD_IO_INL_H_
#undef TESSEL_CPU_SIMD_IO_INL_H_
#else
#define TESSEL_CPU_SIMD_IO_INL_H_
#endif

#include "hwy/highway.h"

HWY_BEFORE_NAMESPACE();
namespace tessel::cpu::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// The f32 vectors the kernels compute in; the stores below take whole ones.
using DF = hn::ScalableTag<float>;
using VF = hn::Vec<DF>;
inline constexpr int64_t kLanes = int64_t(hn::MaxLanes(DF()));

// ---- Scalar bf16 <-> f32 ---------------------------------------------------------------------------

inline float ScalarToF32(float x) { return x; }
inline float ScalarToF32(uint16_t h) {
  const uint32_t u = uint32_t(h) << 16;
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}
inline void ScalarStore(float v, float* p) { *p = v; }
// The same rounding as RoundToBF16 below, one value at a time (row heads and tails).
inline void ScalarStore(float v, uint16_t* p) {
  uint32_t u;
  std::memcpy(&u, &v, sizeof u);
  if ((u & 0x7fffffffu) > 0x7f800000u) *p = uint16_t((u >> 16) | 0x40u);
  else *p = uint16_t((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
}

// ---- Vector loads ----------------------------------------------------------------------------------

// Lanes(d) elements as f32. Templated over D so callers can load into a narrower tag (e.g. half of
// an f64 vector's worth, to promote it further). bf16 is the top half of an f32, so widening is a
// shift.
template <class D>
HWY_INLINE hn::Vec<D> LoadAsF32(D d, const uint16_t* p) {
  const hn::Rebind<uint16_t, D> d16;
  const hn::RebindToUnsigned<D> d32;
  return hn::BitCast(d, hn::ShiftLeft<16>(hn::PromoteTo(d32, hn::LoadU(d16, p))));
}
template <class D>
HWY_INLINE hn::Vec<D> LoadAsF32(D d, const float* p) {
  return hn::LoadU(d, p);
}

// ---- Vector stores ---------------------------------------------------------------------------------

// Rounds to nearest even, as dtype.cpp does, leaving the bf16 bits in the low half of each lane;
// NaN stays a quiet NaN with its sign.
HWY_INLINE hn::Vec<hn::RebindToUnsigned<DF>> RoundToBF16(VF v) {
  const hn::RebindToUnsigned<DF> d32;
  const auto bits = hn::BitCast(d32, v);
  const auto lsb = hn::And(hn::ShiftRight<16>(bits), hn::Set(d32, 1u));
  const auto rounded = hn::ShiftRight<16>(hn::Add(bits, hn::Add(lsb, hn::Set(d32, 0x7fffu))));
  const auto nan = hn::Or(hn::ShiftRight<16>(bits), hn::Set(d32, 0x40u));
  return hn::IfThenElse(hn::RebindMask(d32, hn::IsNaN(v)), nan, rounded);
}

HWY_INLINE void StoreF32As(VF v, float* p) { hn::StoreU(v, DF(), p); }
HWY_INLINE void StoreF32As(VF v, uint16_t* p) {
  const hn::Rebind<uint16_t, DF> d16;
  hn::StoreU(hn::TruncateTo(d16, RoundToBF16(v)), d16, p);
}

// Streaming (non-temporal) stores skip the read-for-ownership of every output line, which is most
// of the cost once the output is larger than the caches. They take aligned full vectors, and
// whole cache lines work best, so bf16 output packs two f32 vectors into one full u16 vector.
// A kernel that streams must call hwy::FlushStream() before its results are read elsewhere.
inline constexpr bool kCanStream = HWY_TARGET != HWY_SCALAR;

// Stores a then b (2 * kLanes outputs) at p, which must be vector-aligned when kStream.
template <bool kStream, class T>
HWY_INLINE void StorePair(VF a, VF b, T* p) {
  if constexpr (!kStream || !kCanStream) {
    StoreF32As(a, p);
    StoreF32As(b, p + kLanes);
  } else if constexpr (sizeof(T) == 4) {
    hn::Stream(a, DF(), p);
    hn::Stream(b, DF(), p + kLanes);
  } else {
#if HWY_TARGET != HWY_SCALAR
    const hn::Repartition<uint16_t, DF> d16;
    hn::Stream(hn::ConcatEven(d16, hn::BitCast(d16, RoundToBF16(b)), hn::BitCast(d16, RoundToBF16(a))), d16, p);
#endif
  }
}

}  // namespace tessel::cpu::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#endif  // TESSEL_CPU_SIMD_IO_INL_H_ toggle
