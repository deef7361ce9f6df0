// The CUDA runner's vector value: DVec<float, 8>, eight consecutive columns in one thread, so that a
// bf16 row is read with one 16-byte load per eight elements instead of eight 2-byte loads. It gives
// device code what GCC vector extensions give the CPU (simd.hpp): lanewise arithmetic with scalars
// on either side, comparisons that yield integer masks, bit operations on the companion integer
// vectors, and Simd<DVec<float, N>> for the operations whose spelling differs. One functor body
// written for V therefore runs on float, on CPU vectors and on DVec.
//
// Why it matters (docs/fusion.md, H200): with one element per load the SM's outstanding requests,
// not its registers, capped the bytes in flight, and chains ran at 14-84% of copy bandwidth.
//
// Loads and stores of whole vectors assume alignment to the vector's size in bytes: the runner
// takes this path only when every op of a chain says its pointers and row strides allow it
// (vec_ok, ops.hpp) and the row length is a multiple of the lanes; otherwise it runs floats.
// A struct has no `?:` with a vector condition: functors select with where(mask, a, b).
//
// The header also compiles on the host (plain copies instead of CUDA's 16-byte vector types), so
// that tests/fuse/fuse_dvec_test.cpp checks its lanes, packing and math in CI, where no GPU runs.
#pragma once

#include <cstdint>
#include <cstring>
#include <type_traits>

#include "tessel/fuse/simd.hpp"

namespace tessel::fuse {

template <class T, int N>
struct DVec {
  T v[N];
  TESSEL_HOST_DEVICE TESSEL_FUSE_INLINE T& operator[](int i) { return v[i]; }
  TESSEL_HOST_DEVICE TESSEL_FUSE_INLINE const T& operator[](int i) const { return v[i]; }
};

template <class T, int N>
inline constexpr bool is_dvec_v<DVec<T, N>> = true;

// The lanes the runner uses: 8 floats, one 16-byte load of bf16 (two of f32, one 8-byte of 8-bit).
inline constexpr int kDeviceLanes = 8;
using DVecF = DVec<float, kDeviceLanes>;

namespace detail {
template <class T, int N, class F>
TESSEL_HOST_DEVICE TESSEL_FUSE_INLINE auto lanes_map(const DVec<T, N>& a, const F& f) {
  DVec<decltype(f(a.v[0])), N> r;
  for (int i = 0; i < N; ++i) r.v[i] = f(a.v[i]);
  return r;
}
}  // namespace detail

// Binary operators: vector with vector, and with a scalar of the lane type on either side.
#define TESSEL_DVEC_BINARY(OP)                                                                               \
  template <class T, int N>                                                                                  \
  TESSEL_HOST_DEVICE TESSEL_FUSE_INLINE DVec<T, N> operator OP(const DVec<T, N>& a, const DVec<T, N>& b) {   \
    DVec<T, N> r;                                                                                            \
    for (int i = 0; i < N; ++i) r.v[i] = a.v[i] OP b.v[i];                                 \
    return r;                                                                                                \
  }                                                                                                          \
  template <class T, int N>                                                                                  \
  TESSEL_HOST_DEVICE TESSEL_FUSE_INLINE DVec<T, N> operator OP(const DVec<T, N>& a, std::type_identity_t<T> b) { \
    DVec<T, N> r;                                                                                            \
    for (int i = 0; i < N; ++i) r.v[i] = a.v[i] OP b;                                      \
    return r;                                                                                                \
  }                                                                                                          \
  template <class T, int N>                                                                                  \
  TESSEL_HOST_DEVICE TESSEL_FUSE_INLINE DVec<T, N> operator OP(std::type_identity_t<T> a, const DVec<T, N>& b) { \
    DVec<T, N> r;                                                                                            \
    for (int i = 0; i < N; ++i) r.v[i] = a OP b.v[i];                                      \
    return r;                                                                                                \
  }                                                                                                          \
  template <class T, int N>                                                                                  \
  TESSEL_HOST_DEVICE TESSEL_FUSE_INLINE DVec<T, N>& operator OP##=(DVec<T, N>& a, const DVec<T, N>& b) {     \
    return a = a OP b;                                                                                       \
  }                                                                                                          \
  template <class T, int N>                                                                                  \
  TESSEL_HOST_DEVICE TESSEL_FUSE_INLINE DVec<T, N>& operator OP##=(DVec<T, N>& a, std::type_identity_t<T> b) { \
    return a = a OP b;                                                                                       \
  }
TESSEL_DVEC_BINARY(+)
TESSEL_DVEC_BINARY(-)
TESSEL_DVEC_BINARY(*)
TESSEL_DVEC_BINARY(/)
TESSEL_DVEC_BINARY(&)
TESSEL_DVEC_BINARY(|)
TESSEL_DVEC_BINARY(^)
#undef TESSEL_DVEC_BINARY

// Comparisons give masks as vector extensions do: int32 lanes, all ones where true.
#define TESSEL_DVEC_COMPARE(OP)                                                                                  \
  template <class T, int N>                                                                                      \
  TESSEL_HOST_DEVICE TESSEL_FUSE_INLINE DVec<int32_t, N> operator OP(const DVec<T, N>& a, const DVec<T, N>& b) { \
    DVec<int32_t, N> r;                                                                                          \
    for (int i = 0; i < N; ++i) r.v[i] = a.v[i] OP b.v[i] ? -1 : 0;                            \
    return r;                                                                                                    \
  }                                                                                                              \
  template <class T, int N>                                                                                      \
  TESSEL_HOST_DEVICE TESSEL_FUSE_INLINE DVec<int32_t, N> operator OP(const DVec<T, N>& a, std::type_identity_t<T> b) { \
    DVec<int32_t, N> r;                                                                                          \
    for (int i = 0; i < N; ++i) r.v[i] = a.v[i] OP b ? -1 : 0;                                 \
    return r;                                                                                                    \
  }                                                                                                              \
  template <class T, int N>                                                                                      \
  TESSEL_HOST_DEVICE TESSEL_FUSE_INLINE DVec<int32_t, N> operator OP(std::type_identity_t<T> a, const DVec<T, N>& b) { \
    DVec<int32_t, N> r;                                                                                          \
    for (int i = 0; i < N; ++i) r.v[i] = a OP b.v[i] ? -1 : 0;                                 \
    return r;                                                                                                    \
  }
TESSEL_DVEC_COMPARE(<)
TESSEL_DVEC_COMPARE(>)
TESSEL_DVEC_COMPARE(<=)
TESSEL_DVEC_COMPARE(>=)
TESSEL_DVEC_COMPARE(==)
TESSEL_DVEC_COMPARE(!=)
#undef TESSEL_DVEC_COMPARE

template <class T, int N>
TESSEL_HOST_DEVICE TESSEL_FUSE_INLINE DVec<T, N> operator-(const DVec<T, N>& a) {
  return detail::lanes_map(a, [](T x) { return T(-x); });
}
template <class T, int N>
TESSEL_HOST_DEVICE TESSEL_FUSE_INLINE DVec<T, N> operator~(const DVec<T, N>& a) {
  return detail::lanes_map(a, [](T x) { return T(~x); });
}
template <class T, int N>
TESSEL_HOST_DEVICE TESSEL_FUSE_INLINE DVec<T, N> operator<<(const DVec<T, N>& a, int s) {
  return detail::lanes_map(a, [s](T x) { return T(x << s); });
}
template <class T, int N>
TESSEL_HOST_DEVICE TESSEL_FUSE_INLINE DVec<T, N> operator>>(const DVec<T, N>& a, int s) {
  return detail::lanes_map(a, [s](T x) { return T(x >> s); });
}

// where(mask, a, b) for masks from DVec comparisons (simd.hpp's where() handles float and CPU vectors).
template <class T, int N>
TESSEL_HOST_DEVICE TESSEL_FUSE_INLINE DVec<T, N> where(const DVec<int32_t, N>& m, const DVec<T, N>& a,
                                                       const DVec<T, N>& b) {
  DVec<T, N> r;
  for (int i = 0; i < N; ++i) r.v[i] = m.v[i] ? a.v[i] : b.v[i];
  return r;
}

// Lane-wise max and min as one select per lane: the values of math.hpp's where(b > a, b, a) and
// where(b < a, b, a), NaNs included, without an integer mask built and tested per lane (row
// maxima, |y| maxima and clamps run these on every element).
template <int N>
TESSEL_HOST_DEVICE TESSEL_FUSE_INLINE DVec<float, N> max(const DVec<float, N>& a, const DVec<float, N>& b) {
  DVec<float, N> r;
  for (int i = 0; i < N; ++i) r.v[i] = b.v[i] > a.v[i] ? b.v[i] : a.v[i];
  return r;
}
template <int N>
TESSEL_HOST_DEVICE TESSEL_FUSE_INLINE DVec<float, N> min(const DVec<float, N>& a, const DVec<float, N>& b) {
  DVec<float, N> r;
  for (int i = 0; i < N; ++i) r.v[i] = b.v[i] < a.v[i] ? b.v[i] : a.v[i];
  return r;
}

template <int kLanes>
struct Simd<DVec<float, kLanes>, void> {
  static constexpr int N = kLanes;
  static_assert(N % 4 == 0, "whole 16-byte words of f32");
  using V = DVec<float, N>;
  using U = DVec<uint32_t, N>;
  using I = DVec<int32_t, N>;
  using Acc64 = DVec<double, N>;

  TESSEL_HOST_DEVICE static V splat(float c) {
    V r;
    for (int i = 0; i < N; ++i) r.v[i] = c;
    return r;
  }
  TESSEL_HOST_DEVICE static U splat_u(uint32_t c) {
    U r;
    for (int i = 0; i < N; ++i) r.v[i] = c;
    return r;
  }
  TESSEL_HOST_DEVICE static U to_bits(const V& v) {
    return detail::lanes_map(v, [](float x) { return Simd<float>::to_bits(x); });
  }
  TESSEL_HOST_DEVICE static V from_bits(const U& u) {
    return detail::lanes_map(u, [](uint32_t x) { return Simd<float>::from_bits(x); });
  }
  TESSEL_HOST_DEVICE static I as_i(const U& u) {
    return detail::lanes_map(u, [](uint32_t x) { return int32_t(x); });
  }
  TESSEL_HOST_DEVICE static U as_u(const I& i) {
    return detail::lanes_map(i, [](int32_t x) { return uint32_t(x); });
  }
  TESSEL_HOST_DEVICE static V from_u32(const U& u) {
    return detail::lanes_map(u, [](uint32_t x) { return float(x); });
  }
  TESSEL_HOST_DEVICE static V from_i32(const I& i) {
    return detail::lanes_map(i, [](int32_t x) { return float(x); });
  }
  TESSEL_HOST_DEVICE static I to_i32(const V& v) {
    return detail::lanes_map(v, [](float x) { return int32_t(x); });
  }
  TESSEL_HOST_DEVICE static V sqrt(const V& v) {
    return detail::lanes_map(v, [](float x) { return Simd<float>::sqrt(x); });
  }
  TESSEL_HOST_DEVICE static float lane(const V& v, int i) { return v.v[i]; }
  // For SoftmaxAcc's CPU-vector path, which compiles for DVec too but which the CUDA runner never takes.
  TESSEL_HOST_DEVICE static bool any_greater(const V& a, const V& b) {
    bool any = false;
    for (int i = 0; i < kLanes; ++i) any = any || a.v[i] > b.v[i];
    return any;
  }
  TESSEL_HOST_DEVICE static V rcp(const V& x) {
    return detail::lanes_map(x, [](float a) { return Simd<float>::rcp(a); });
  }
  TESSEL_HOST_DEVICE static I iota() {
    I r;
    for (int i = 0; i < N; ++i) r.v[i] = i;
    return r;
  }
  TESSEL_HOST_DEVICE static I first(int n) { return (iota() - n) >> 31; }

  // Whole-vector loads and stores, aligned to their size (the runner checks, see the file comment).
  TESSEL_HOST_DEVICE static V load_f32(const float* p) {
    V r;
#if defined(__CUDA_ARCH__)
    for (int w = 0; w < N / 4; ++w) {
      const float4 q = reinterpret_cast<const float4*>(p)[w];
      r.v[4 * w] = q.x, r.v[4 * w + 1] = q.y, r.v[4 * w + 2] = q.z, r.v[4 * w + 3] = q.w;
    }
#else
    std::memcpy(r.v, p, sizeof r.v);
#endif
    return r;
  }
  TESSEL_HOST_DEVICE static U load_u16(const uint16_t* p) {
    uint32_t w[N / 2];
    load_words(p, w);
    U r;
    for (int i = 0; i < N; ++i) r.v[i] = (w[i / 2] >> (16 * (i % 2))) & 0xffffu;
    return r;
  }
  TESSEL_HOST_DEVICE static U load_u8(const uint8_t* p) {
    uint32_t w[N / 4];
    load_words(p, w);
    U r;
    for (int i = 0; i < N; ++i) r.v[i] = (w[i / 4] >> (8 * (i % 4))) & 0xffu;
    return r;
  }
  TESSEL_HOST_DEVICE static I load_i8(const int8_t* p) {
    uint32_t w[N / 4];
    load_words(p, w);
    I r;
    for (int i = 0; i < N; ++i) r.v[i] = int32_t(w[i / 4] << (24 - 8 * (i % 4))) >> 24;
    return r;
  }
  TESSEL_HOST_DEVICE static void store_f32(float* p, const V& v) {
#if defined(__CUDA_ARCH__)
    for (int w = 0; w < N / 4; ++w)
      reinterpret_cast<float4*>(p)[w] = make_float4(v.v[4 * w], v.v[4 * w + 1], v.v[4 * w + 2], v.v[4 * w + 3]);
#else
    std::memcpy(p, v.v, sizeof v.v);
#endif
  }
  TESSEL_HOST_DEVICE static void store_u16(uint16_t* p, const U& u) {
    uint32_t w[N / 2];
    for (int i = 0; i < N / 2; ++i) w[i] = (u.v[2 * i] & 0xffffu) | (u.v[2 * i + 1] << 16);
    store_words(p, w);
  }
  TESSEL_HOST_DEVICE static void store_u8(uint8_t* p, const U& u) {
    uint32_t w[N / 4];
    for (int i = 0; i < N / 4; ++i)
      w[i] = (u.v[4 * i] & 0xffu) | ((u.v[4 * i + 1] & 0xffu) << 8) | ((u.v[4 * i + 2] & 0xffu) << 16) |
             (u.v[4 * i + 3] << 24);
    store_words(p, w);
  }
  TESSEL_HOST_DEVICE static void store_i8(int8_t* p, const I& i) { store_u8(reinterpret_cast<uint8_t*>(p), as_u(i)); }

  // Sums: per-lane doubles (the CPU vectors' layout); the runner folds the lanes once per row.
  TESSEL_HOST_DEVICE static void acc_add(Acc64& a, const V& v) {
    for (int i = 0; i < N; ++i) a.v[i] += double(v.v[i]);
  }
  TESSEL_HOST_DEVICE static void acc_scale(Acc64& a, const V& f) {
    for (int i = 0; i < N; ++i) a.v[i] *= double(f.v[i]);
  }
  TESSEL_HOST_DEVICE static double acc_lane(const Acc64& a, int i) { return a.v[i]; }
  TESSEL_HOST_DEVICE static float reduce_max(const V& v) {
    float m = v.v[0];
    for (int i = 1; i < N; ++i) m = v.v[i] > m ? v.v[i] : m;
    return m;
  }
  // The lanes summed as a tree, in f32 (one pairwise sum of N values).
  TESSEL_HOST_DEVICE static float reduce_sum(const V& v) {
    float t[N];
    for (int i = 0; i < N; ++i) t[i] = v.v[i];
    for (int w = N / 2; w >= 1; w /= 2)
      for (int i = 0; i < w; ++i) t[i] += t[i + w];
    return t[0];
  }

 private:
  // N elements of S as 32-bit words: one 16-byte load per 16 bytes (8 bytes for 8-bit elements).
  template <class S, int W>
  TESSEL_HOST_DEVICE static void load_words(const S* p, uint32_t (&w)[W]) {
#if defined(__CUDA_ARCH__)
    if constexpr (W % 4 == 0) {
      for (int i = 0; i < W / 4; ++i) {
        const uint4 q = reinterpret_cast<const uint4*>(p)[i];
        w[4 * i] = q.x, w[4 * i + 1] = q.y, w[4 * i + 2] = q.z, w[4 * i + 3] = q.w;
      }
    } else {
      static_assert(W == 2);
      const uint2 q = *reinterpret_cast<const uint2*>(p);
      w[0] = q.x, w[1] = q.y;
    }
#else
    std::memcpy(w, p, sizeof w);  // little-endian words, as the device's
#endif
  }
  template <class S, int W>
  TESSEL_HOST_DEVICE static void store_words(S* p, const uint32_t (&w)[W]) {
#if defined(__CUDA_ARCH__)
    if constexpr (W % 4 == 0) {
      for (int i = 0; i < W / 4; ++i)
        reinterpret_cast<uint4*>(p)[i] = make_uint4(w[4 * i], w[4 * i + 1], w[4 * i + 2], w[4 * i + 3]);
    } else {
      static_assert(W == 2);
      *reinterpret_cast<uint2*>(p) = make_uint2(w[0], w[1]);
    }
#else
    std::memcpy(p, w, sizeof w);
#endif
  }
};

}  // namespace tessel::fuse
