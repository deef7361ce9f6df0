// Element types a fusion chain reads and writes: f32, bf16, fp8 e4m3 and int8, each a tag type with
// its storage type and vectorized encode/decode. The type decides the kernel; compare DType, which
// is the runtime name of the same thing.
//
// Encodings match src/core/dtype.cpp bit for bit (tests/fuse/fuse_dtypes_test.cpp checks them):
// round to nearest even; bf16 keeps NaN quiet; e4m3 saturates to +-448 and maps NaN to 0x7f;
// int8 saturates to [-128, 127] and maps NaN to 0.
#pragma once

#include <cstdint>
#include <type_traits>

#include "tessel/fuse/math.hpp"

#if defined(__CUDACC__)
#include <cuda_bf16.h>
#include <cuda_fp8.h>
#endif

namespace tessel::fuse {

// ---- Codecs on 32-bit lanes ------------------------------------------------------------------------

// f32 -> bf16 bits in the high half of each lane (the low half is garbage): rounded to nearest
// even, NaN kept quiet. CPU vectors store the high halves as they are (Simd::store_hi16).
template <class V>
TESSEL_HOST_DEVICE TESSEL_FUSE_INLINE typename Simd<V>::U bf16_round_hi(const V& v) {
  const auto u = Simd<V>::to_bits(v);
  return where(v != v, u | 0x400000u, u + 0x7fffu + ((u >> 16) & 1u));
}

// f32 -> bf16 bits (in the low half of each lane).
template <class V>
TESSEL_HOST_DEVICE TESSEL_FUSE_INLINE typename Simd<V>::U bf16_encode(const V& v) {
#if defined(__CUDA_ARCH__)
  // One cvt.rn.bf16.f32 instead of six integer operations; the same rounding (a NaN becomes the
  // canonical 0x7fff rather than keeping its payload, which no comparison sees).
  if constexpr (std::is_same_v<V, float>) return __bfloat16_as_ushort(__float2bfloat16_rn(v));
  if constexpr (is_dvec_v<V>)
    return detail::lanes_map(v, [](float a) { return uint32_t(__bfloat16_as_ushort(__float2bfloat16_rn(a))); });
#endif
  return bf16_round_hi(v) >> 16;
}
template <class V>
TESSEL_HOST_DEVICE TESSEL_FUSE_INLINE V bf16_decode(const typename Simd<V>::U& h) {
  return Simd<V>::from_bits(h << 16);
}

// f32 -> e4m3 code (in the low byte of each lane).
template <class V>
TESSEL_HOST_DEVICE TESSEL_FUSE_INLINE typename Simd<V>::U e4m3_encode(const V& v) {
#if defined(__CUDA_ARCH__)
  // Hopper converts in hardware (cvt.rn.satfinite.e4m3x2.f32): round to nearest even, saturating
  // at 448, NaN to 0x7f: the encoding below, in one instruction instead of about fifteen.
  // (The runner's vectors convert two codes at a time in e4m3::store instead.)
  if constexpr (std::is_same_v<V, float>) return __nv_cvt_float_to_fp8(v, __NV_SATFINITE, __NV_E4M3);
#endif
  using S = Simd<V>;
  using U = typename S::U;
  const U sign = (S::to_bits(v) >> 24) & 0x80u;
  // |v| saturated at 448, the largest finite code (0x7e), infinity included.
  const V a = min(abs(v), splat<V>(448.0f));
  // One float add rounds: with E the exponent of max(a, 2^-6), the sum a + 2^(E + 20) has a unit in
  // the last place of 2^(E - 3), e4m3's step at a (2^-9 for the subnormals below 2^-6), so the add
  // rounds a to nearest even on e4m3's grid, and the sum's low bits count the steps s. A normal
  // code is (E + 7) * 8 + s - 8 (s from 8 to 15; a carry into the next binade, s = 16, lands on
  // that binade's first code), a subnormal's (E = -6) is s: both are (E + 6) * 8 + s. One path for
  // both ranges where separate normal and subnormal paths and their select took 4 instructions more.
  const U eb = S::to_bits(max(a, splat<V>(0.015625f))) & 0x7f800000u;  // (E + 127) << 23
  const U mb = eb + (20u << 23);                                       // 2^(E + 20)
  const U steps = S::to_bits(a + S::from_bits(mb)) - mb;
  const U code = (steps + (eb >> 20) - 968u) | sign;  // (E + 127) * 8 - 968 = (E + 6) * 8
  return where(v != v, S::splat_u(0x7fu), code);
}
template <class V>
TESSEL_HOST_DEVICE TESSEL_FUSE_INLINE V e4m3_decode(const typename Simd<V>::U& c) {
  using S = Simd<V>;
  using U = typename S::U;
  const U e = (c >> 3) & 15u;
  const U m = c & 7u;
  const V normal = S::from_bits(((e + 120u) << 23) | (m << 20));
  const V sub = S::from_u32(m) * 0.001953125f;  // m * 2^-9
  const V mag = where(e == 0u, sub, normal);
  const V v = S::from_bits(S::to_bits(mag) | ((c & 0x80u) << 24));
  return where((c & 0x7fu) == 0x7fu, S::from_bits(S::splat_u(0x7fc00000u)), v);
}

// f32 -> int8, rounded to nearest even and saturated.
template <class V>
TESSEL_HOST_DEVICE TESSEL_FUSE_INLINE typename Simd<V>::I i8_encode(const V& v) {
  const V c = min(max(v, -128.0f), 127.0f);
#if defined(TESSEL_FUSE_X86)
  // CPU vectors: the hardware's rounding conversion (cvtps2dq) replaces round_even's two adds; a
  // NaN (which it turns into INT_MIN) is zeroed after.
  if constexpr (is_vec_v<V>) return where(v == v, detail::cvt_rn(c), typename Simd<V>::I{});
#endif
  return Simd<V>::to_i32(where(v != v, splat<V>(0.0f), round_even(c)));
}

// ---- Element type tags -----------------------------------------------------------------------------

// Each tag: `storage`, `load<V>(p)` (lanes_v<V> elements), `load_n<V>(p, n)` (the first n, the
// rest zero, never reading past p + n), `store`, `store_n`, and `stream` (a streaming store of a
// whole, aligned vector; a plain store for one lane).

struct f32 {
  using storage = float;
  static constexpr int kBytes = 4;
  template <class V>
  TESSEL_HOST_DEVICE static TESSEL_FUSE_INLINE V load(const storage* p) {
    return Simd<V>::load_f32(p);
  }
  template <class V>
  static TESSEL_FUSE_INLINE V load_n(const storage* p, int n) {
    return Simd<V>::load_f32_n(p, n);
  }
  template <class V>
  TESSEL_HOST_DEVICE static TESSEL_FUSE_INLINE void store(storage* p, const V& v) {
    Simd<V>::store_f32(p, v);
  }
  template <class V>
  static TESSEL_FUSE_INLINE void store_n(storage* p, const V& v, int n) {
    Simd<V>::store_f32_n(p, v, n);
  }
  template <class V>
  static TESSEL_FUSE_INLINE void stream(storage* p, const V& v) {
    Simd<V>::stream_f32(p, v);
  }
};

struct bf16 {
  using storage = uint16_t;
  static constexpr int kBytes = 2;
  template <class V>
  TESSEL_HOST_DEVICE static TESSEL_FUSE_INLINE V load(const storage* p) {
    return bf16_decode<V>(Simd<V>::load_u16(p));
  }
  template <class V>
  static TESSEL_FUSE_INLINE V load_n(const storage* p, int n) {
    return bf16_decode<V>(Simd<V>::load_u16_n(p, n));
  }
  // CPU vectors store the rounded high halves as they are (simd.hpp).
  template <class V>
  TESSEL_HOST_DEVICE static TESSEL_FUSE_INLINE void store(storage* p, const V& v) {
#if !defined(__CUDACC__)
    if constexpr (is_vec_v<V>) return Simd<V>::store_hi16(p, bf16_round_hi(v));
#endif
    Simd<V>::store_u16(p, bf16_encode(v));
  }
  template <class V>
  static TESSEL_FUSE_INLINE void store_n(storage* p, const V& v, int n) {
    Simd<V>::store_u16_n(p, bf16_encode(v), n);
  }
  template <class V>
  static TESSEL_FUSE_INLINE void stream(storage* p, const V& v) {
#if !defined(__CUDACC__)
    if constexpr (is_vec_v<V>) return Simd<V>::stream_hi16(p, bf16_round_hi(v));
#endif
    Simd<V>::stream_u16(p, bf16_encode(v));
  }
  // v already holds bf16 values (round_to<bf16>: the low half of every lane is zero), so its high
  // halves are the codes: CPU vectors skip the rounding (six operations a vector).
  template <class V>
  TESSEL_HOST_DEVICE static TESSEL_FUSE_INLINE void store_exact(storage* p, const V& v) {
#if !defined(__CUDACC__)
    if constexpr (is_vec_v<V>) return Simd<V>::store_hi16(p, Simd<V>::to_bits(v));
#endif
    store(p, v);
  }
  template <class V>
  static TESSEL_FUSE_INLINE void stream_exact(storage* p, const V& v) {
#if !defined(__CUDACC__)
    if constexpr (is_vec_v<V>) return Simd<V>::stream_hi16(p, Simd<V>::to_bits(v));
#endif
    stream(p, v);
  }
};

struct e4m3 {
  using storage = uint8_t;
  static constexpr int kBytes = 1;
  static constexpr float kMax = 448.0f;  // the largest finite value: quantizers scale to it
  template <class V>
  TESSEL_HOST_DEVICE static TESSEL_FUSE_INLINE V load(const storage* p) {
    return e4m3_decode<V>(Simd<V>::load_u8(p));
  }
  template <class V>
  static TESSEL_FUSE_INLINE V load_n(const storage* p, int n) {
    return e4m3_decode<V>(Simd<V>::load_u8_n(p, n));
  }
  template <class V>
  TESSEL_HOST_DEVICE static TESSEL_FUSE_INLINE void store(storage* p, const V& v) {
#if defined(__CUDA_ARCH__)
    if constexpr (is_dvec_v<V>) {
      // Two codes per conversion (cvt.rn.satfinite.e4m3x2.f32, the first value in the low byte),
      // packed straight into one 8-byte store (the runner's vector path aligns p to 8 bytes):
      // half the conversions of e4m3_encode's one per lane, and no unpacking and repacking.
      static_assert(lanes_v<V> == 8, "the runner's DVecF");
      uint32_t w[2];
      for (int i = 0; i < 2; ++i) {
        const float2 a = make_float2(v.v[4 * i], v.v[4 * i + 1]), b = make_float2(v.v[4 * i + 2], v.v[4 * i + 3]);
        const uint32_t lo = __nv_cvt_float2_to_fp8x2(a, __NV_SATFINITE, __NV_E4M3);
        const uint32_t hi = __nv_cvt_float2_to_fp8x2(b, __NV_SATFINITE, __NV_E4M3);
        w[i] = lo | (hi << 16);
      }
      *reinterpret_cast<uint2*>(p) = make_uint2(w[0], w[1]);
      return;
    }
#endif
    Simd<V>::store_u8(p, e4m3_encode(v));
  }
  template <class V>
  static TESSEL_FUSE_INLINE void store_n(storage* p, const V& v, int n) {
    Simd<V>::store_u8_n(p, e4m3_encode(v), n);
  }
  template <class V>
  static TESSEL_FUSE_INLINE void stream(storage* p, const V& v) {
    Simd<V>::stream_u8(p, e4m3_encode(v));
  }
};

struct i8 {
  using storage = int8_t;
  static constexpr int kBytes = 1;
  static constexpr float kMax = 127.0f;  // symmetric: quantizers scale to +-127
  template <class V>
  TESSEL_HOST_DEVICE static TESSEL_FUSE_INLINE V load(const storage* p) {
    return Simd<V>::from_i32(Simd<V>::load_i8(p));
  }
  template <class V>
  static TESSEL_FUSE_INLINE V load_n(const storage* p, int n) {
    return Simd<V>::from_i32(Simd<V>::load_i8_n(p, n));
  }
  template <class V>
  TESSEL_HOST_DEVICE static TESSEL_FUSE_INLINE void store(storage* p, const V& v) {
#if defined(__CUDA_ARCH__)
    if constexpr (is_dvec_v<V>) {
      store_dvec<true>(p, v);
      return;
    }
#endif
    Simd<V>::store_i8(p, i8_encode(v));
  }
#if defined(__CUDA_ARCH__)
  // The runner's vectors: no float-to-int conversion (F2I issues at a quarter of the FP32 rate): the
  // clamped value plus 1.5 * 2^23 rounds to the nearest even integer in the low mantissa bits, whose
  // low byte is the two's-complement code; byte permutes pack four codes a word, one 8-byte store (the
  // runner's vector path aligns p to 8 bytes). NaN gives 0, as i8_encode. kClamp = false is for
  // values the caller knows to lie within [-127.5, 127.5) or to be NaN (a quantizer that scaled by
  // 127 / max|v|): the add alone then rounds them, two instructions an element fewer.
  template <bool kClamp, class V>
  __device__ static TESSEL_FUSE_INLINE void store_dvec(storage* p, const V& v) {
    static_assert(lanes_v<V> == 8, "the runner's DVecF");
    uint32_t b[8];
    for (int i = 0; i < 8; ++i) {
      const float x = v.v[i];
      const float c = kClamp ? fminf(fmaxf(x, -128.0f), 127.0f) : x;
      b[i] = x == x ? __float_as_uint(c + 12582912.0f) : 0u;
    }
    const uint32_t lo = __byte_perm(__byte_perm(b[0], b[1], 0x0040), __byte_perm(b[2], b[3], 0x0040), 0x5410);
    const uint32_t hi = __byte_perm(__byte_perm(b[4], b[5], 0x0040), __byte_perm(b[6], b[7], 0x0040), 0x5410);
    *reinterpret_cast<uint2*>(p) = make_uint2(lo, hi);
  }
#endif
  template <class V>
  static TESSEL_FUSE_INLINE void store_n(storage* p, const V& v, int n) {
    Simd<V>::store_i8_n(p, i8_encode(v), n);
  }
  template <class V>
  static TESSEL_FUSE_INLINE void stream(storage* p, const V& v) {
    Simd<V>::stream_i8(p, i8_encode(v));
  }
};

// Rounds through an element type and back: the value a store-then-load would give.
template <class T, class V>
TESSEL_HOST_DEVICE TESSEL_FUSE_INLINE V round_to(const V& v) {
  if constexpr (sizeof(typename T::storage) == 4) {
    return v;
#if !defined(__CUDACC__)
  } else if constexpr (std::is_same_v<T, bf16> && is_vec_v<V>) {
    // The rounded high halves with the low halves cleared: the same value as a store and a load,
    // one AND instead of a pack, a widen and a shift.
    return Simd<V>::from_bits(bf16_round_hi(v) & 0xffff0000u);
#endif
  } else {
    alignas(16) typename T::storage buf[lanes_v<V>];  // DVec stores whole 16-byte words
    T::store(buf, v);
    return T::template load<V>(buf);
  }
}

}  // namespace tessel::fuse
