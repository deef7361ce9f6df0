// Elementwise math for fusion chains, written once for float and for CPU vectors: exp, sigmoid,
// SiLU, tanh, erf/erfc, both GELUs, ReLU, min/max/abs, rounding.
//
// On the CPU every function is branch-free polynomial code, so a vector of lanes costs the same as
// one lane and the tail of a row computes bitwise what the body does. In CUDA device code, where
// the hardware's own expf/tanhf/erff are fast and accurate, the float versions call those, except
// exp, which takes the SFU's ex2 (see exp).
// Accuracy (f32, measured against double in tests/fuse/fuse_math_test.cpp): exp, sigmoid, SiLU
// and tanh within a few ulp; erfc within about 1e-6 relative (Numerical Recipes' erfcc); erf and
// the GELUs within about 1e-6 relative, with no cancellation for negative arguments.
#pragma once

#include <type_traits>

#include "tessel/fuse/simd.hpp"

namespace tessel::fuse {

#if defined(__CUDA_ARCH__)
namespace detail {
// The device's own function f on each lane: of a float, or of the runner's DVec (dvec.hpp).
template <class V, class F>
__device__ TESSEL_FUSE_INLINE V on_lanes(const V& x, const F& f) {
  if constexpr (std::is_same_v<V, float>)
    return f(x);
  else
    return lanes_map(x, f);
}
}  // namespace detail
#endif

// ---- Basics ----------------------------------------------------------------------------------------

template <class V>
TESSEL_HOST_DEVICE TESSEL_FUSE_INLINE V min(const V& a, const V& b) {
#if defined(TESSEL_FUSE_X86)
  if constexpr (is_vec_v<V>) return detail::min_ps(b, a);  // the same select, one instruction
#endif
  return where(b < a, b, a);
}
template <class V>
TESSEL_HOST_DEVICE TESSEL_FUSE_INLINE V max(const V& a, const V& b) {
#if defined(TESSEL_FUSE_X86)
  if constexpr (is_vec_v<V>) return detail::max_ps(b, a);
#endif
  return where(b > a, b, a);
}
// With a scalar bound, for vectors (on float the two-argument forms above already apply).
template <class V>
requires(!std::is_same_v<V, float>) TESSEL_HOST_DEVICE TESSEL_FUSE_INLINE V min(const V& a, float b) {
  return min(a, splat<V>(b));
}
template <class V>
requires(!std::is_same_v<V, float>) TESSEL_HOST_DEVICE TESSEL_FUSE_INLINE V max(const V& a, float b) {
  return max(a, splat<V>(b));
}
template <class V>
TESSEL_HOST_DEVICE TESSEL_FUSE_INLINE V abs(const V& x) {
#if defined(__CUDA_ARCH__)
  // The same bits, but ptxas folds fabsf into its user as an |x| operand (FMNMX |a|, |b|), where the
  // mask is an instruction of its own: one per element of rmsnorm_quant's row maximum.
  return detail::on_lanes(x, [](float a) { return fabsf(a); });
#else
  return Simd<V>::from_bits(Simd<V>::to_bits(x) & 0x7fffffffu);
#endif
}
// |mag| with the sign of sgn.
template <class V>
TESSEL_HOST_DEVICE TESSEL_FUSE_INLINE V copysign(const V& mag, const V& sgn) {
  using S = Simd<V>;
  return S::from_bits((S::to_bits(mag) & 0x7fffffffu) | (S::to_bits(sgn) & 0x80000000u));
}
template <class V>
TESSEL_HOST_DEVICE TESSEL_FUSE_INLINE V sqrt(const V& x) {
  return Simd<V>::sqrt(x);
}
// Round to nearest, ties to even, for |x| <= 2^22: adding 1.5 * 2^23 leaves no fraction bits.
template <class V>
TESSEL_HOST_DEVICE TESSEL_FUSE_INLINE V round_even(const V& x) {
  return (x + 12582912.0f) - 12582912.0f;
}
template <class V>
TESSEL_HOST_DEVICE TESSEL_FUSE_INLINE V relu(const V& x) {
  return max(x, 0.0f);
}

// ---- exp ---------------------------------------------------------------------------------------------

namespace detail {
// exp's last step: y * 2^n (n an integer held in a float, t the rounding sum whose low mantissa bits
// hold n in two's complement), +inf above x = 88.7228 and 0 below -86.64. Shifted into the exponent
// field, t's bits add n; at x = 88.7228 (the largest kept), n = 128 and y < 1, so the sum is still
// a finite float.
template <class V>
TESSEL_HOST_DEVICE TESSEL_FUSE_INLINE V exp_scale(const V& x, const V& y, const V&, const V& t) {
  using S = Simd<V>;
  const V e = S::from_bits(S::to_bits(y) + (S::to_bits(t) << 23));
  return where(x > 88.7228f, splat<V>(__builtin_inff()), where(x < -86.64f, splat<V>(0.0f), e));
}
#if defined(TESSEL_FUSE_X86)
// AVX-512: vscalefps multiplies by 2^n exactly (the same result in the normal range) and takes the
// underflow select as its zero-masking: 4 instructions instead of 6, in every exp of SiLU, GELU and
// softmax. Forced inline only into the AVX-512 entry point (flatten), like the other ISA pieces.
__attribute__((target("avx512f"))) inline VecTypes<16>::F exp_scale(const VecTypes<16>::F& x, const VecTypes<16>::F& y,
                                                                     const VecTypes<16>::F& n, const VecTypes<16>::F&) {
  const __m512 xv = (__m512)x;
  const __mmask16 keep = _mm512_cmp_ps_mask(xv, _mm512_set1_ps(-86.64f), _CMP_NLT_UQ);  // NaN kept
  const __m512 e = _mm512_maskz_scalef_ps(keep, (__m512)y, (__m512)n);
  const __mmask16 big = _mm512_cmp_ps_mask(xv, _mm512_set1_ps(88.7228f), _CMP_GT_OQ);
  return (VecTypes<16>::F)_mm512_mask_mov_ps(e, big, _mm512_set1_ps(__builtin_inff()));
}
#endif
}  // namespace detail

// e^x: Cody-Waite reduction by ln 2, Cephes' degree-5 polynomial, and 2^n added to the exponent
// field. Within 2 ulp; +inf above ~88.72; below -86.64 (results under ~2.3e-38, where 2^n would
// leave the normal range) it flushes to 0, which no activation or softmax term can notice.
// Out-of-range arguments compute garbage that the two final selects replace; NaN stays NaN (it
// fails both comparisons, and NaN arithmetic keeps it).
// On the GPU: the SFU's 2^t (ex2.approx.ftz, about 2^-22 relative) of t = x * log2(e), two
// instructions where expf takes about eight; softmax's exp_minus does the same. Rounding t adds
// about |x| * 6e-8 relative: 3e-7 at |x| = 5, within the exp-based chains' f32 tolerance (32 ulp),
// and where |x| is large the activation's result (x / (1 + e^-x)) is either exact or tiny.
// gelu_tanh was bound by its arithmetic (ncu, H200: 72% SM, 22 instructions per element).
template <class V>
TESSEL_HOST_DEVICE TESSEL_FUSE_INLINE V exp(const V& x) {
#if defined(__CUDA_ARCH__)
  return detail::on_lanes(x, [](float a) {
    float r;
    asm("ex2.approx.ftz.f32 %0, %1;" : "=f"(r) : "f"(a * 1.4426950408889634f));
    return r;
  });
#else
  const V t = x * 1.44269504088896341f + 12582912.0f;  // 1.5 * 2^23 + round(x / ln 2)
  const V n = t - 12582912.0f;
  V r = x - n * 0.693359375f;  // ln 2 in two parts; n * hi is exact
  r = r - n * -2.12194440e-4f;
  V p = splat<V>(1.9875691500e-4f);
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  const V y = p * (r * r) + r + 1.0f;
  return detail::exp_scale(x, y, n, t);
#endif
}

// 1 / x: exact division on one lane, a refined hardware estimate on CPU vectors (within a few ulp).
template <class V>
TESSEL_HOST_DEVICE TESSEL_FUSE_INLINE V rcp(const V& x) {
  return Simd<V>::rcp(x);
}

// ---- Activations ---------------------------------------------------------------------------------

template <class V>
TESSEL_HOST_DEVICE TESSEL_FUSE_INLINE V sigmoid(const V& x) {
  return rcp(1.0f + exp(-x));
}
// x * sigmoid(x). For x -> -inf, exp(-x) overflows to inf, the reciprocal is 0 and the result -0.
template <class V>
TESSEL_HOST_DEVICE TESSEL_FUSE_INLINE V silu(const V& x) {
  return x * rcp(1.0f + exp(-x));
}

// tanh: Cephes' odd polynomial below 0.625 (where 1 - 2/(e^2x + 1) would cancel), that form above.
template <class V>
TESSEL_HOST_DEVICE TESSEL_FUSE_INLINE V tanh(const V& x) {
#if defined(__CUDA_ARCH__)
  return detail::on_lanes(x, [](float a) { return ::tanhf(a); });
#else
  const V a = abs(x);
  const V z = x * x;
  V p = splat<V>(-5.70498872745e-3f);
  p = p * z + 2.06390887954e-2f;
  p = p * z - 5.37397155531e-2f;
  p = p * z + 1.33314422036e-1f;
  p = p * z - 3.33332819422e-1f;
  const V small = p * z * x + x;
  const V large = copysign(1.0f - 2.0f * rcp(exp(a * 2.0f) + 1.0f), x);
  return where(a < 0.625f, small, large);
#endif
}

// erfc(z) for z >= 0, Numerical Recipes' erfcc: relative error below 1.2e-7 in exact arithmetic,
// and no cancellation however large z is.
template <class V>
TESSEL_HOST_DEVICE TESSEL_FUSE_INLINE V erfc_nonneg(const V& z) {
  const V t = rcp(1.0f + 0.5f * z);
  V p = splat<V>(0.17087277f);
  p = p * t - 0.82215223f;
  p = p * t + 1.48851587f;
  p = p * t - 1.13520398f;
  p = p * t + 0.27886807f;
  p = p * t - 0.18628806f;
  p = p * t + 0.09678418f;
  p = p * t + 0.37409196f;
  p = p * t + 1.00002368f;
  p = p * t - 1.26551223f;
  return t * exp(p - z * z);
}

template <class V>
TESSEL_HOST_DEVICE TESSEL_FUSE_INLINE V erfc(const V& x) {
  const V e = erfc_nonneg(abs(x));
  return where(x < 0.0f, 2.0f - e, e);
}

// erf: the Maclaurin series below 0.5 (where 1 - erfc(x) would cancel), 1 - erfc(|x|) above.
template <class V>
TESSEL_HOST_DEVICE TESSEL_FUSE_INLINE V erf(const V& x) {
#if defined(__CUDA_ARCH__)
  return detail::on_lanes(x, [](float a) { return ::erff(a); });
#else
  const V a = abs(x);
  const V z = x * x;
  V p = splat<V>(1.0f / 9360.0f);
  p = p * z - 1.0f / 1320.0f;
  p = p * z + 1.0f / 216.0f;
  p = p * z - 1.0f / 42.0f;
  p = p * z + 1.0f / 10.0f;
  p = p * z - 1.0f / 3.0f;
  p = p * z + 1.0f;
  const V small = x * p * 1.12837916709551257f;  // 2 / sqrt(pi)
  const V large = copysign(1.0f - erfc_nonneg(a), x);
  return where(a < 0.5f, small, large);
#endif
}

// GELU with the exact (erf) form: x * Phi(x), with Phi taken from erfc on the side where it is
// small, so the result keeps its relative accuracy for negative x.
template <class V>
TESSEL_HOST_DEVICE TESSEL_FUSE_INLINE V gelu_erf(const V& x) {
  const V h = 0.5f * erfc_nonneg(abs(x) * 0.70710678118654752f);
  return x * where(x < 0.0f, h, 1.0f - h);
}

// GELU with the tanh approximation, 0.5 x (1 + tanh(u)), written as x * sigmoid(2u), which is the
// same function without the cancellation of 1 + tanh(u) for negative u.
template <class V>
TESSEL_HOST_DEVICE TESSEL_FUSE_INLINE V gelu_tanh(const V& x) {
  const V u2 = x * (1.59576912160573071f + 0.0713548162726f * (x * x));  // 2 * sqrt(2/pi) * (x + 0.044715 x^3)
  return x * rcp(1.0f + exp(-u2));
}

}  // namespace tessel::fuse
