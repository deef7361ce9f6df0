// The values a fusion chain computes with: float (one lane, as a CUDA thread sees it) and, on the
// CPU, GCC/Clang vector extensions of 4, 8 or 16 float lanes. Simd<V> holds the few operations
// whose spelling differs between the two; everything else is ordinary C++ arithmetic, so one
// functor body serves both.
//
// Why vector extensions and not Highway here: a user functor must be plain C++ that nvcc also
// compiles, written once outside any per-target namespace. Vector extensions give that (operators,
// comparisons, ?: and scalar broadcast work on them as on float), and the CPU runner compiles the
// whole chain once per ISA by inlining it into a target-attributed entry point (cpu.hpp).
#pragma once

#include <cstdint>
#include <type_traits>

#include "tessel/fuse/config.hpp"

#if !defined(__CUDACC__) && (defined(__x86_64__) || defined(__i386__))
#include <immintrin.h>
#define TESSEL_FUSE_X86 1
#endif

namespace tessel::fuse {

template <class V, class Enable = void>
struct Simd;

// ---- One lane: float ----------------------------------------------------------------------------

template <>
struct Simd<float> {
  static constexpr int N = 1;
  using U = uint32_t;    // the bits of each lane
  using I = int32_t;     // signed integers, and the type of comparison masks on vectors
  using Acc64 = double;  // a sum accumulator of double precision

  TESSEL_HOST_DEVICE static float splat(float c) { return c; }
  TESSEL_HOST_DEVICE static U splat_u(uint32_t c) { return c; }
  TESSEL_HOST_DEVICE static U to_bits(float x) {
#if defined(__CUDA_ARCH__)
    return __float_as_uint(x);
#else
    U u;
    __builtin_memcpy(&u, &x, sizeof u);
    return u;
#endif
  }
  TESSEL_HOST_DEVICE static float from_bits(U u) {
#if defined(__CUDA_ARCH__)
    return __uint_as_float(u);
#else
    float f;
    __builtin_memcpy(&f, &u, sizeof f);
    return f;
#endif
  }
  TESSEL_HOST_DEVICE static I as_i(U u) { return I(u); }
  TESSEL_HOST_DEVICE static U as_u(I i) { return U(i); }
  TESSEL_HOST_DEVICE static float from_u32(U u) { return float(u); }
  TESSEL_HOST_DEVICE static float from_i32(I i) { return float(i); }
  // Truncates; callers round first and stay within the int32 range.
  TESSEL_HOST_DEVICE static I to_i32(float x) { return I(x); }
  TESSEL_HOST_DEVICE static float sqrt(float x) {
#if defined(__CUDA_ARCH__)
    return ::sqrtf(x);
#else
    return __builtin_sqrtf(x);
#endif
  }
  TESSEL_HOST_DEVICE static float lane(float v, int) { return v; }
  TESSEL_HOST_DEVICE static bool any_greater(float a, float b) { return a > b; }
  // 1 / x. On the device: the SFU's estimate refined by one Newton step (within about an ulp, as
  // the CPU vectors' rcp), where an IEEE division costs about ten instructions and a slow-path
  // branch; the selects keep 1/inf = 0 and 1/0 = inf (Newton's step alone would give NaN).
  TESSEL_HOST_DEVICE static float rcp(float x) {
#if defined(__CUDA_ARCH__)
    float r;
    asm("rcp.approx.ftz.f32 %0, %1;" : "=f"(r) : "f"(x));
    const float refined = __fmaf_rn(r, __fmaf_rn(-x, r, 1.0f), r);
    return (isinf(x) || x == 0.0f) ? r : refined;
#else
    return 1.0f / x;
#endif
  }

  // Loads of one element, widened to 32-bit lanes.
  TESSEL_HOST_DEVICE static float load_f32(const float* p) { return *p; }
  TESSEL_HOST_DEVICE static U load_u16(const uint16_t* p) { return *p; }
  TESSEL_HOST_DEVICE static U load_u8(const uint8_t* p) { return *p; }
  TESSEL_HOST_DEVICE static I load_i8(const int8_t* p) { return *p; }
  // Stores keep the low bits of each lane.
  TESSEL_HOST_DEVICE static void store_f32(float* p, float v) { *p = v; }
  TESSEL_HOST_DEVICE static void store_u16(uint16_t* p, U u) { *p = uint16_t(u); }
  TESSEL_HOST_DEVICE static void store_u8(uint8_t* p, U u) { *p = uint8_t(u); }
  TESSEL_HOST_DEVICE static void store_i8(int8_t* p, I i) { *p = int8_t(i); }

  // Sum accumulation in double.
  TESSEL_HOST_DEVICE static void acc_add(Acc64& a, float v) { a += double(v); }
  TESSEL_HOST_DEVICE static void acc_scale(Acc64& a, float f) { a *= double(f); }
  TESSEL_HOST_DEVICE static double acc_lane(const Acc64& a, int) { return a; }
  TESSEL_HOST_DEVICE static float reduce_max(float v) { return v; }
};

// ---- Several lanes: GCC/Clang vector extensions (host code only) ---------------------------------

#if !defined(__CUDACC__)

template <int N>
struct VecTypes {
  typedef float F __attribute__((vector_size(4 * N)));
  typedef uint32_t U __attribute__((vector_size(4 * N)));
  typedef int32_t I __attribute__((vector_size(4 * N)));
  typedef uint16_t U16 __attribute__((vector_size(2 * N)));
  typedef uint8_t U8 __attribute__((vector_size(N)));
  typedef int8_t I8 __attribute__((vector_size(N)));
  typedef float Half __attribute__((vector_size(2 * N)));  // N/2 floats
  typedef double D __attribute__((vector_size(4 * N)));    // N/2 doubles
};

// The CPU value of N float lanes: 4 (SSE2, NEON), 8 (AVX2) or 16 (AVX-512).
template <int N>
using Vec = typename VecTypes<N>::F;

template <class V>
inline constexpr bool is_vec_v = std::is_same_v<V, Vec<4>> || std::is_same_v<V, Vec<8>> || std::is_same_v<V, Vec<16>>;

namespace detail {

// Streaming (non-temporal) stores of one whole vector, which must be aligned to its size. They skip
// the read-for-ownership of the destination line, which is most of a write's cost once outputs
// outgrow the caches. Each is compiled for the ISA it needs and is NOT forced inline: the
// runner's ISA-specific entry point inlines the one that matches (flatten), and the generic
// template bodies that mention the others never run. Vectors are passed by reference, never by
// value, so no call boundary ever carries one.
#if defined(TESSEL_FUSE_X86)
__attribute__((target("avx512f"))) inline void nt_store(void* p, const VecTypes<16>::F& v) {
  _mm512_stream_ps(static_cast<float*>(p), (__m512)v);
}
__attribute__((target("avx"))) inline void nt_store(void* p, const VecTypes<8>::F& v) {
  _mm256_stream_ps(static_cast<float*>(p), (__m256)v);
}
inline void nt_store(void* p, const VecTypes<4>::F& v) { _mm_stream_ps(static_cast<float*>(p), (__m128)v); }
__attribute__((target("avx"))) inline void nt_store(void* p, const VecTypes<16>::U16& v) {
  _mm256_stream_si256(static_cast<__m256i*>(p), (__m256i)v);
}
inline void nt_store(void* p, const VecTypes<8>::U16& v) { _mm_stream_si128(static_cast<__m128i*>(p), (__m128i)v); }
inline void nt_store(void* p, const VecTypes<16>::U8& v) { _mm_stream_si128(static_cast<__m128i*>(p), (__m128i)v); }
inline void nt_store(void* p, const VecTypes<16>::I8& v) { _mm_stream_si128(static_cast<__m128i*>(p), (__m128i)v); }
// 8- and 4-byte vectors go through movnti, which stores a general register.
template <class T>
inline void nt_store_small(void* p, const T& v) {
  if constexpr (sizeof(T) == 8) {
    long long x;
    __builtin_memcpy(&x, &v, 8);
    _mm_stream_si64(static_cast<long long*>(p), x);
  } else {
    static_assert(sizeof(T) == 4);
    int x;
    __builtin_memcpy(&x, &v, 4);
    _mm_stream_si32(static_cast<int*>(p), x);
  }
}
inline void nt_store(void* p, const VecTypes<4>::U16& v) { nt_store_small(p, v); }
inline void nt_store(void* p, const VecTypes<8>::U8& v) { nt_store_small(p, v); }
inline void nt_store(void* p, const VecTypes<8>::I8& v) { nt_store_small(p, v); }
inline void nt_store(void* p, const VecTypes<4>::U8& v) { nt_store_small(p, v); }
inline void nt_store(void* p, const VecTypes<4>::I8& v) { nt_store_small(p, v); }
inline constexpr bool kHaveStream = true;
#else

template <class T>
inline void nt_store(void* p, const T& v) {
  __builtin_memcpy(p, &v, sizeof v);
}
inline constexpr bool kHaveStream = false;
#endif

// Reciprocals from the hardware estimate plus one Newton-Raphson step: within about 1 ulp after
// rcp14 (AVX-512), 2-3 ulp after the 12-bit rcpps (AVX2, SSE), and 3-5x cheaper than a vector
// divide, which is what keeps SiLU and GELU under the memory time on a two-core box. Inputs must
// be finite and nonzero (rcp() below handles infinity).
#if defined(TESSEL_FUSE_X86)
__attribute__((target("avx512f"))) inline VecTypes<16>::F rcp_estimate(const VecTypes<16>::F& d) {
  return (VecTypes<16>::F)_mm512_maskz_rcp14_ps(__mmask16(0xffff), (__m512)d);  // maskz: no undefined source
}
__attribute__((target("avx"))) inline VecTypes<8>::F rcp_estimate(const VecTypes<8>::F& d) {
  return (VecTypes<8>::F)_mm256_rcp_ps((__m256)d);
}
inline VecTypes<4>::F rcp_estimate(const VecTypes<4>::F& d) { return (VecTypes<4>::F)_mm_rcp_ps((__m128)d); }
#else
template <class V>
inline V rcp_estimate(const V& d) {
  return 1.0f / d;
}
#endif

// u16 -> u32 lanes straight from memory: one vpmovzxwd. GCC splits __builtin_convertvector of a
// loaded vector into two half conversions and an insert.
#if defined(TESSEL_FUSE_X86)
__attribute__((target("avx512f"))) inline VecTypes<16>::U widen_u16(const uint16_t* p) {
  return (VecTypes<16>::U)_mm512_maskz_cvtepu16_epi32(__mmask16(0xffff),
                                                      _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
}
__attribute__((target("avx2"))) inline VecTypes<8>::U widen_u16(const uint16_t* p, std::integral_constant<int, 8>) {
  return (VecTypes<8>::U)_mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
}
#endif

// f32 -> int32 rounded to nearest even (cvtps2dq; out of range and NaN give INT_MIN). AVX-512 says
// the rounding in the instruction; AVX and SSE2 take MXCSR's, round to nearest unless a caller
// changed it, as the 1.5 * 2^23 addition of round_even does.
#if defined(TESSEL_FUSE_X86)
__attribute__((target("avx512f"))) inline VecTypes<16>::I cvt_rn(const VecTypes<16>::F& v) {
  return (VecTypes<16>::I)_mm512_maskz_cvt_roundps_epi32(__mmask16(0xffff), (__m512)v,
                                                             _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
}
__attribute__((target("avx"))) inline VecTypes<8>::I cvt_rn(const VecTypes<8>::F& v) {
  return (VecTypes<8>::I)_mm256_cvtps_epi32((__m256)v);
}
inline VecTypes<4>::I cvt_rn(const VecTypes<4>::F& v) { return (VecTypes<4>::I)_mm_cvtps_epi32((__m128)v); }
#endif

// minps(x, y) is x < y ? x : y and maxps(x, y) is x > y ? x : y, NaNs and signed zeros included:
// exactly fuse::min and max below, in one instruction where GCC 12 often emits a compare and a blend
// for the ?: form (it does for a constant first operand). maskz: GCC 12 warns on the undefined source
// of the unmasked AVX-512 forms.
#if defined(TESSEL_FUSE_X86)
__attribute__((target("avx512f"))) inline VecTypes<16>::F min_ps(const VecTypes<16>::F& x, const VecTypes<16>::F& y) {
  return (VecTypes<16>::F)_mm512_maskz_min_ps(__mmask16(0xffff), (__m512)x, (__m512)y);
}
__attribute__((target("avx512f"))) inline VecTypes<16>::F max_ps(const VecTypes<16>::F& x, const VecTypes<16>::F& y) {
  return (VecTypes<16>::F)_mm512_maskz_max_ps(__mmask16(0xffff), (__m512)x, (__m512)y);
}
__attribute__((target("avx"))) inline VecTypes<8>::F min_ps(const VecTypes<8>::F& x, const VecTypes<8>::F& y) {
  return (VecTypes<8>::F)_mm256_min_ps((__m256)x, (__m256)y);
}
__attribute__((target("avx"))) inline VecTypes<8>::F max_ps(const VecTypes<8>::F& x, const VecTypes<8>::F& y) {
  return (VecTypes<8>::F)_mm256_max_ps((__m256)x, (__m256)y);
}
inline VecTypes<4>::F min_ps(const VecTypes<4>::F& x, const VecTypes<4>::F& y) {
  return (VecTypes<4>::F)_mm_min_ps((__m128)x, (__m128)y);
}
inline VecTypes<4>::F max_ps(const VecTypes<4>::F& x, const VecTypes<4>::F& y) {
  return (VecTypes<4>::F)_mm_max_ps((__m128)x, (__m128)y);
}
#endif

// The high halves of 16 lanes, packed, with one word permute (vpermw): bf16 rounded in place needs
// no shift before it, where a narrowing store needs one.
#if defined(TESSEL_FUSE_X86)
__attribute__((target("avx512f,avx512bw"))) inline VecTypes<16>::U16 high_halves(const VecTypes<16>::U& u) {
  const __m512i idx = _mm512_set_epi16(31, 29, 27, 25, 23, 21, 19, 17, 15, 13, 11, 9, 7, 5, 3, 1, 31, 29, 27, 25, 23, 21,
                                       19, 17, 15, 13, 11, 9, 7, 5, 3, 1);
  const __m512i w = _mm512_permutexvar_epi16(idx, (__m512i)u);
  VecTypes<16>::U16 h;
  __builtin_memcpy(&h, &w, sizeof h);  // the low 32 bytes (GCC 12's cast warns, as above)
  return h;
}
#endif

// Whether a > b in any lane (ordered: a NaN lane is not greater), as one compare into a mask.
#if defined(TESSEL_FUSE_X86)
__attribute__((target("avx512f"))) inline bool any_greater(const VecTypes<16>::F& a, const VecTypes<16>::F& b) {
  return _mm512_cmp_ps_mask((__m512)a, (__m512)b, _CMP_GT_OQ) != 0;
}
__attribute__((target("avx"))) inline bool any_greater(const VecTypes<8>::F& a, const VecTypes<8>::F& b) {
  return _mm256_movemask_ps(_mm256_cmp_ps((__m256)a, (__m256)b, _CMP_GT_OQ)) != 0;
}
inline bool any_greater(const VecTypes<4>::F& a, const VecTypes<4>::F& b) {
  return _mm_movemask_ps(_mm_cmpgt_ps((__m128)a, (__m128)b)) != 0;
}
#endif

// Makes streaming stores visible to other threads before the pool reports a chunk done.
inline void stream_fence() {
#if defined(TESSEL_FUSE_X86)
  _mm_sfence();
#endif
}

}  // namespace detail

template <class V>
struct Simd<V, std::enable_if_t<is_vec_v<V>>> {
  static constexpr int N = int(sizeof(V) / 4);
  using T = VecTypes<N>;
  using U = typename T::U;
  using I = typename T::I;
  using D = typename T::D;
  struct Acc64 {
    D lo{}, hi{};  // lanes [0, N/2) and [N/2, N), in double
  };

  static TESSEL_FUSE_INLINE V splat(float c) { return c - V{}; }  // c - 0 keeps the sign of -0
  static TESSEL_FUSE_INLINE U splat_u(uint32_t c) { return c - U{}; }
  static TESSEL_FUSE_INLINE U to_bits(const V& v) { return (U)v; }
  static TESSEL_FUSE_INLINE V from_bits(const U& u) { return (V)u; }
  static TESSEL_FUSE_INLINE I as_i(const U& u) { return (I)u; }
  static TESSEL_FUSE_INLINE U as_u(const I& i) { return (U)i; }
  static TESSEL_FUSE_INLINE V from_u32(const U& u) { return __builtin_convertvector(u, V); }
  static TESSEL_FUSE_INLINE V from_i32(const I& i) { return __builtin_convertvector(i, V); }
  static TESSEL_FUSE_INLINE I to_i32(const V& v) { return __builtin_convertvector(v, I); }
  static TESSEL_FUSE_INLINE V sqrt(const V& v) {
    V r;
    for (int i = 0; i < N; ++i) r[i] = __builtin_sqrtf(v[i]);
    return r;
  }
  static TESSEL_FUSE_INLINE float lane(const V& v, int i) { return v[i]; }
  static TESSEL_FUSE_INLINE bool any_greater(const V& a, const V& b) {
#if defined(TESSEL_FUSE_X86)
    return detail::any_greater(a, b);
#else
    const auto m = a > b;
    for (int i = 0; i < N; ++i)
      if (m[i]) return true;
    return false;
#endif
  }
  // 1 / d within a few ulp; 0 for infinite d.
  static TESSEL_FUSE_INLINE V rcp(const V& d) {
    const V r = detail::rcp_estimate(d);
    const V e = r + r * (1.0f - d * r);
    return d == splat(__builtin_inff()) ? V{} : e;
  }
  static TESSEL_FUSE_INLINE I iota() {
    I r;
    for (int i = 0; i < N; ++i) r[i] = i;
    return r;
  }
  // Lanes [0, n) all ones, the others zero: the sign of (lane - n), spread by the shift.
  static TESSEL_FUSE_INLINE I first(int n) { return (iota() - n) >> 31; }

  template <class R, class S>
  static TESSEL_FUSE_INLINE R load_raw(const S* p) {
    R r;
    __builtin_memcpy(&r, p, sizeof r);
    return r;
  }
  // The first n elements, the rest zero; never reads past p + n.
  template <class R, class S>
  static TESSEL_FUSE_INLINE R load_raw_n(const S* p, int n) {
    S buf[N] = {};
    for (int i = 0; i < n; ++i) buf[i] = p[i];
    return load_raw<R>(buf);
  }
  template <class S, class R>
  static TESSEL_FUSE_INLINE void store_raw_n(S* p, const R& r, int n) {
    S buf[N];
    __builtin_memcpy(buf, &r, sizeof r);
    for (int i = 0; i < n; ++i) p[i] = buf[i];
  }

  static TESSEL_FUSE_INLINE V load_f32(const float* p) { return load_raw<V>(p); }

  static TESSEL_FUSE_INLINE U load_u16(const uint16_t* p) {
#if defined(TESSEL_FUSE_X86)
    if constexpr (N == 16) return detail::widen_u16(p);
    if constexpr (N == 8) return detail::widen_u16(p, std::integral_constant<int, 8>());
#endif
    return __builtin_convertvector(load_raw<typename T::U16>(p), U);
  }
  static TESSEL_FUSE_INLINE U load_u8(const uint8_t* p) {
    return __builtin_convertvector(load_raw<typename T::U8>(p), U);
  }
  static TESSEL_FUSE_INLINE I load_i8(const int8_t* p) {
    return __builtin_convertvector(load_raw<typename T::I8>(p), I);
  }
  static TESSEL_FUSE_INLINE V load_f32_n(const float* p, int n) { return load_raw_n<V>(p, n); }
  static TESSEL_FUSE_INLINE U load_u16_n(const uint16_t* p, int n) {
    return __builtin_convertvector(load_raw_n<typename T::U16>(p, n), U);
  }
  static TESSEL_FUSE_INLINE U load_u8_n(const uint8_t* p, int n) {
    return __builtin_convertvector(load_raw_n<typename T::U8>(p, n), U);
  }
  static TESSEL_FUSE_INLINE I load_i8_n(const int8_t* p, int n) {
    return __builtin_convertvector(load_raw_n<typename T::I8>(p, n), I);
  }

  static TESSEL_FUSE_INLINE void store_f32(float* p, const V& v) { __builtin_memcpy(p, &v, sizeof v); }
  static TESSEL_FUSE_INLINE void store_u16(uint16_t* p, const U& u) {
    const auto h = __builtin_convertvector(u, typename T::U16);
    __builtin_memcpy(p, &h, sizeof h);
  }
  static TESSEL_FUSE_INLINE void store_u8(uint8_t* p, const U& u) {
    const auto b = __builtin_convertvector(u, typename T::U8);
    __builtin_memcpy(p, &b, sizeof b);
  }
  static TESSEL_FUSE_INLINE void store_i8(int8_t* p, const I& i) {
    const auto b = __builtin_convertvector(i, typename T::I8);
    __builtin_memcpy(p, &b, sizeof b);
  }
  static TESSEL_FUSE_INLINE void store_f32_n(float* p, const V& v, int n) { store_raw_n(p, v, n); }
  static TESSEL_FUSE_INLINE void store_u16_n(uint16_t* p, const U& u, int n) {
    store_raw_n(p, __builtin_convertvector(u, typename T::U16), n);
  }
  static TESSEL_FUSE_INLINE void store_u8_n(uint8_t* p, const U& u, int n) {
    store_raw_n(p, __builtin_convertvector(u, typename T::U8), n);
  }
  static TESSEL_FUSE_INLINE void store_i8_n(int8_t* p, const I& i, int n) {
    store_raw_n(p, __builtin_convertvector(i, typename T::I8), n);
  }

  // The high 16 bits of each lane (bf16 rounded in place), packed.
  static TESSEL_FUSE_INLINE typename T::U16 high_halves(const U& u) {
#if defined(TESSEL_FUSE_X86)
    if constexpr (N == 16) return detail::high_halves(u);
#endif
    return __builtin_convertvector(u >> 16, typename T::U16);
  }
  static TESSEL_FUSE_INLINE void store_hi16(uint16_t* p, const U& u) {
    const auto h = high_halves(u);
    __builtin_memcpy(p, &h, sizeof h);
  }
  static TESSEL_FUSE_INLINE void stream_hi16(uint16_t* p, const U& u) { detail::nt_store(p, high_halves(u)); }

  // Streaming stores: `p` must be aligned to the stored width (the writer checks).
  static TESSEL_FUSE_INLINE void stream_f32(float* p, const V& v) { detail::nt_store(p, v); }
  static TESSEL_FUSE_INLINE void stream_u16(uint16_t* p, const U& u) {
    const auto h = __builtin_convertvector(u, typename T::U16);
    detail::nt_store(p, h);
  }
  static TESSEL_FUSE_INLINE void stream_u8(uint8_t* p, const U& u) {
    const auto b = __builtin_convertvector(u, typename T::U8);
    detail::nt_store(p, b);
  }
  static TESSEL_FUSE_INLINE void stream_i8(int8_t* p, const I& i) {
    const auto b = __builtin_convertvector(i, typename T::I8);
    detail::nt_store(p, b);
  }

  // Sum accumulation in double: each half of the lanes widened and added.
  static TESSEL_FUSE_INLINE void widen(const V& v, D& lo, D& hi) {
    typename T::Half a, b;
    __builtin_memcpy(&a, &v, sizeof a);
    __builtin_memcpy(&b, reinterpret_cast<const char*>(&v) + sizeof a, sizeof b);
    lo = __builtin_convertvector(a, D);
    hi = __builtin_convertvector(b, D);
  }
  static TESSEL_FUSE_INLINE void acc_add(Acc64& a, const V& v) {
    D lo, hi;
    widen(v, lo, hi);
    a.lo += lo;
    a.hi += hi;
  }
  static TESSEL_FUSE_INLINE void acc_scale(Acc64& a, const V& f) {
    D lo, hi;
    widen(f, lo, hi);
    a.lo *= lo;
    a.hi *= hi;
  }
  static TESSEL_FUSE_INLINE double acc_lane(const Acc64& a, int i) { return i < N / 2 ? a.lo[i] : a.hi[i - N / 2]; }
  // The lanes folded in halves, lane i with lane i + n/2 down to lane 0: log2(n) vector steps where a
  // loop over the lanes took n - 1 dependent scalar ones, once per row and reduction.
  template <class W, class F>
  static TESSEL_FUSE_INLINE auto fold_halves(const W& w, F f) {
    constexpr int n = int(sizeof(W) / sizeof(w[0]));
    if constexpr (n == 2) {
      return f(w[0], w[1]);
    } else {
      using E = std::remove_cvref_t<decltype(w[0])>;
      typedef E H __attribute__((vector_size(sizeof(W) / 2)));
      H lo, hi;
      __builtin_memcpy(&lo, &w, sizeof lo);
      __builtin_memcpy(&hi, reinterpret_cast<const char*>(&w) + sizeof lo, sizeof hi);
      return fold_halves(f(lo, hi), f);
    }
  }
  // The sum of every lane in the order SumAcc::lanes states: (lane i + lane i + N/2), then halves.
  static TESSEL_FUSE_INLINE double acc_total(const Acc64& a) {
    return fold_halves(a.lo + a.hi, [](const auto& x, const auto& y) { return x + y; });
  }
  // The largest lane; a NaN counts only in lane 0, as in the scalar loop this replaced (b > a fails).
  static TESSEL_FUSE_INLINE float reduce_max(const V& v) {
    return fold_halves(v, [](const auto& a, const auto& b) { return b > a ? b : a; });
  }
};

#endif  // !__CUDACC__

// ---- Generic helpers ------------------------------------------------------------------------------

template <class V>
inline constexpr int lanes_v = Simd<V>::N;

// True for the CUDA runner's DVec (dvec.hpp specializes it).
template <class V>
inline constexpr bool is_dvec_v = false;

template <class V>
TESSEL_HOST_DEVICE TESSEL_FUSE_INLINE V splat(float c) {
  return Simd<V>::splat(c);
}

// where(mask, a, b): a where the mask is set. Masks come from comparisons (bool on float, integer
// lanes on vectors), and ?: understands both.
template <class M, class V>
TESSEL_HOST_DEVICE TESSEL_FUSE_INLINE V where(const M& m, const V& a, const V& b) {
  return m ? a : b;
}

}  // namespace tessel::fuse

// The CUDA runner's vector value (compiled on the host too, for its tests).
#include "tessel/fuse/dvec.hpp"
