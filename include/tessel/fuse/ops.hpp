// The building blocks of a fusion chain: reads, elementwise ops, row reductions and writes.
//
// A chain (chain.hpp) runs over a [rows, cols] loop nest. Each op is a small struct of values
// (pointers, strides, eps); its type decides the code. The value flowing through the chain is V:
// float or DVecF (8 consecutive columns, dvec.hpp) in a CUDA thread, a vector of 4/8/16 float lanes on
// the CPU. The protocol, by kind:
//
//   read:    template <class V, class A> void load(V& out, const A& at) const;
//   map:     template <class V, class A> void apply(V& v, const A& at) const;
//   write:   like map; stores v in the final pass (A::final_pass) and passes it on unchanged.
//   reduce:  template <class V> using Acc = ...;                     // a row accumulator
//            template <bool kTail, class V> void add(Acc<V>&, const V& v, int n) const;
//            void finish(const Acc<float>& a, int64_t cols);         // once per row: keep the stat
//            template <class V, class A> void apply(V& v, const A& at) const;  // use it
//
// `at` (At below) says where the value sits: row, first column, and in a row's last partial
// vector (A::tail) how many lanes are real. Every op may also define begin_row(row), called once
// per row before anything else (the rotary read caches its cos/sin table there).
#pragma once

#include <cfloat>
#include <cstdint>
#include <type_traits>

#include "tessel/fuse/dtypes.hpp"

namespace tessel::fuse {

template <bool kTail, bool kFinal, bool kHwBf16 = false>
struct At {
  int64_t row = 0;
  int64_t col = 0;      // first column of the value
  int n = 0;            // lanes that are real columns: all, unless tail
  bool stream = false;  // writes may use streaming stores (the CPU runner's choice for big outputs)
  int64_t cols = 0;     // the row's length
  static constexpr bool tail = kTail;
  static constexpr bool final_pass = kFinal;
  static constexpr bool hw_bf16 = kHwBf16;  // CPU, 16 lanes: bf16 writes may round with vcvtneps2bf16
};

enum class Kind { read, map, reduce, write };

struct OpBase {
  TESSEL_HOST_DEVICE void begin_row(int64_t) {}
};

// The CUDA runner can run an op on DVec (eight consecutive columns per thread, whole 16-byte loads
// and stores; dvec.hpp) when the op has vec_ok(lanes): true when its pointers and row strides
// allow whole vectors of `lanes` elements at every multiple of `lanes` columns. Ops without it
// (strided reads, rope, user-written reads) always run one column per thread.
// VecOpBase is the base of ops that hold no pointer of their own: any alignment will do.
struct VecOpBase : OpBase {
  TESSEL_HOST_DEVICE bool vec_ok(int) const { return true; }
};
namespace detail {
template <class S>
TESSEL_HOST_DEVICE bool vec_aligned(const S* p, int64_t row_stride, int lanes) {
  const uintptr_t bytes = uintptr_t(lanes) * sizeof(S);
  return reinterpret_cast<uintptr_t>(p) % bytes == 0 && row_stride % lanes == 0;
}
}  // namespace detail
template <class Op>
concept VecCapable = requires(const Op& op) { op.vec_ok(8); };

namespace detail {

// v in lanes [0, n), `fill` in the others. Bitwise, not ?:, because GCC 12 crashes (an internal
// compiler error in do_store_flag) on ?: with a mask that is not a comparison in some contexts.
template <bool kTail, class V>
TESSEL_HOST_DEVICE TESSEL_FUSE_INLINE V masked(const V& v, int n, float fill) {
  if constexpr (kTail) {
    using S = Simd<V>;
    const auto m = S::as_u(S::first(n));
    return S::from_bits((S::to_bits(v) & m) | (S::to_bits(splat<V>(fill)) & ~m));
  } else {
    (void)n;
    (void)fill;
    return v;
  }
}

TESSEL_HOST_DEVICE TESSEL_FUSE_INLINE float neg_inf() { return Simd<float>::from_bits(0xff800000u); }

TESSEL_HOST_DEVICE TESSEL_FUSE_INLINE double exp_d(double x) {
#if defined(__CUDA_ARCH__)
  return ::exp(x);
#else
  return __builtin_exp(x);
#endif
}
// The per-row statistics' last step, in double: a / b and 1 / sqrt(x). On the GPU every thread of a
// row's group computes them, and the IEEE double division, square root and reciprocal are
// subroutines of dozens of double instructions each, at half the f32 rate: about 100 per thread
// and row in RmsScale, as much as the row's own arithmetic at 32 elements a thread. There they
// start from the hardware's approximations (MUFU, about 20 bits) and take two Newton steps
// (quadratic: about 40, then past 53 bits; a third, as before session 11, changed nothing but the
// instruction count); the result is within an ulp of the IEEE one, so its rounding to float (what
// the ops keep) differs only in rare near-ties. The CPU keeps IEEE.
TESSEL_HOST_DEVICE TESSEL_FUSE_INLINE double div_d(double a, double b) {
#if defined(__CUDA_ARCH__)
  double y;
  asm("rcp.approx.ftz.f64 %0, %1;" : "=d"(y) : "d"(b));
  if (isfinite(y) && y != 0.0) {  // b finite and nonzero: refine (else y is already exact: 0 or inf)
#pragma unroll
    for (int i = 0; i < 2; ++i) y = fma(y, fma(-b, y, 1.0), y);
  }
  return a * y;
#else
  return a / b;
#endif
}
TESSEL_HOST_DEVICE TESSEL_FUSE_INLINE double rsqrt_d(double x) {
#if defined(__CUDA_ARCH__)
  double y;
  asm("rsqrt.approx.ftz.f64 %0, %1;" : "=d"(y) : "d"(x));
  if (isfinite(y) && y != 0.0) {  // x finite and positive (x = 0 gives inf, as 1 / sqrt(0))
#pragma unroll
    for (int i = 0; i < 2; ++i) y = fma(0.5 * y, fma(-x * y, y, 1.0), y);
  }
  return y;
#else
  return 1.0 / __builtin_sqrt(x);
#endif
}

#if defined(TESSEL_FUSE_X86)
// 16 f32 lanes stored as bf16 by vcvtneps2bf16 (At::hw_bf16): rounded to nearest even, NaN quieted
// with its sign, as the integer rounding (bf16_round_hi) does, but denormal inputs flushed to zero:
// a vector holding one returns false and takes the integer rounding, which keeps bf16 denormals, so
// the bits are the same either way. Inline asm, because the entry that sets hw_bf16
// (cpu::detail::work_avx512bf16) is compiled for AVX-512 without AVX512-BF16, which the runner
// checked at run time (cpu::detect_isa).
__attribute__((target("avx512f,avx512dq"))) inline bool bf16_store_hw(uint16_t* q, const VecTypes<16>::F& v, bool stream) {
  if (_mm512_fpclass_ps_mask((__m512)v, 0x20) != 0) return false;  // 0x20: denormal
  __m256i h;
  asm("vcvtneps2bf16 %1, %0" : "=v"(h) : "v"((__m512)v));
  if (stream) _mm256_stream_si256(reinterpret_cast<__m256i*>(q), h);
  else _mm256_storeu_si256(reinterpret_cast<__m256i*>(q), h);
  return true;
}
#endif

// Stores v at q: a partial vector, a streaming store when allowed and aligned, or a plain store.
// (Streaming half or quarter lines, as bf16 and 8-bit vectors do, measured as fast as whole lines:
// the write-combining buffers merge them.) kExact: v already holds values of T (a cast to T came
// right before the write), so CPU vectors of a type with store_exact (bf16) skip its rounding.
template <class T, bool kExact = false, class V, class A>
TESSEL_HOST_DEVICE TESSEL_FUSE_INLINE void store(typename T::storage* q, const V& v, const A& at) {
  if constexpr (A::tail) {
    T::store_n(q, v, at.n);
  } else if constexpr (lanes_v<V> > 1 && !is_dvec_v<V>) {
    constexpr uintptr_t kAlign = uintptr_t(lanes_v<V>) * T::kBytes;
    const bool stream = at.stream && (reinterpret_cast<uintptr_t>(q) % kAlign) == 0;
#if defined(TESSEL_FUSE_X86)
    if constexpr (A::hw_bf16 && !kExact && std::is_same_v<T, bf16> && lanes_v<V> == 16)
      if (bf16_store_hw(q, v, stream)) return;
#endif
    if constexpr (kExact && requires { T::store_exact(q, v); })
      stream ? T::stream_exact(q, v) : T::store_exact(q, v);
    else
      stream ? T::stream(q, v) : T::store(q, v);
  } else {
    T::store(q, v);
  }
}

// How far ahead reads prefetch, in bytes of their own stream. A chain does 10-40 instructions per
// vector, so the out-of-order window alone keeps too few cache misses in flight to saturate memory
// (a converting bf16 copy reached 22 GB/s, 30 GB/s with this prefetch); the hardware prefetchers do
// not go far enough ahead on their own.
// (Overridable at build time for experiments; 2-16 KiB measured the same here.)
#ifndef TESSEL_FUSE_PREFETCH_BYTES
#define TESSEL_FUSE_PREFETCH_BYTES 4096
#endif
inline constexpr int64_t kPrefetchBytes = TESSEL_FUSE_PREFETCH_BYTES;

// Prefetches the line kPrefetchBytes past element `at` of a stream, following memory linearly: into
// the next row when the rows are contiguous, and harmlessly elsewhere when they are not.
template <class S>
TESSEL_HOST_DEVICE TESSEL_FUSE_INLINE void prefetch_ahead(const S* at) {
#if !defined(__CUDA_ARCH__)
  __builtin_prefetch(reinterpret_cast<const char*>(at) + kPrefetchBytes);
#else
  (void)at;
#endif
}

}  // namespace detail

#if defined(__CUDACC__)
namespace detail {
// e^(x - m) for softmax on the CUDA runner's vectors: the SFU's 2^t (ex2.approx.ftz, about 2^-22
// relative) of t = (x - m) * log2(e): three instructions where expf takes about seven, for a kernel
// that ncu found compute-bound (82% SM throughput, 39% DRAM; H200, 16384 x 8192 bf16). Its error,
// about |x - m| * 1e-7 relative plus 2^-22, is within softmax's tolerance (8 reduction errors, at
// least 2e-6) for every term large enough to count, and results below 2^-126 flush to 0.
TESSEL_HOST_DEVICE TESSEL_FUSE_INLINE float exp_minus(float x, float m) {
#if defined(__CUDA_ARCH__)
  float r;
  asm("ex2.approx.ftz.f32 %0, %1;" : "=f"(r) : "f"((x - m) * 1.4426950408889634f));
  return r;
#else
  return __builtin_expf(x - m);  // the host pass of nvcc; DVec code runs on the device only
#endif
}
}  // namespace detail
#endif

// ---- Row accumulators ------------------------------------------------------------------------------
// Each has add<kTail>(v, n) (lanes past n ignored), lanes() (the CPU's horizontal step, giving the
// one-lane accumulator), merge() of two one-lane accumulators (the GPU's cross-thread step) and the
// result fields read by finish().

// A sum in double, so long rows lose nothing to the accumulator. On CPU vectors each lane first
// sums 8 values in f32 (an error of at most 8 ulp of that partial sum, independent of the row
// length), then widens the partial sum into double: 1 add per vector instead of 5.
template <class V>
struct SumAcc {
  typename Simd<V>::Acc64 s{};
  V part = splat<V>(0.0f);
  int count = 0;
  template <bool kTail>
  TESSEL_HOST_DEVICE TESSEL_FUSE_INLINE void add(const V& v, int n) {
    if constexpr (lanes_v<V> == 1) {
      Simd<V>::acc_add(s, v);
    } else {
      part += detail::masked<kTail>(v, n, 0.0f);
      if (++count == 8) flush();
    }
  }
  TESSEL_HOST_DEVICE TESSEL_FUSE_INLINE void flush() {
#if defined(__CUDACC__)
    if constexpr (is_dvec_v<V>) {
      // The CUDA runner's vectors: the lanes summed in f32 first, then one double add (in lane 0),
      // instead of eight conversions and adds per flush; lanes() reads this layout.
      s.v[0] += double(Simd<V>::reduce_sum(part));
      part = splat<V>(0.0f);
      count = 0;
      return;
    }
#endif
    Simd<V>::acc_add(s, part);
    part = splat<V>(0.0f);
    count = 0;
  }
  // The lanes summed as a tree (a fixed order: the result does not depend on the thread count),
  // which keeps the once-per-row latency short.
  TESSEL_HOST_DEVICE TESSEL_FUSE_INLINE SumAcc<float> lanes() const {
#if defined(__CUDACC__)
    if constexpr (is_dvec_v<V>) return SumAcc<float>{s.v[0] + double(Simd<V>::reduce_sum(part))};  // see flush()
#endif
    SumAcc t = *this;
    t.flush();
#if !defined(__CUDACC__)
    if constexpr (is_vec_v<V>) return SumAcc<float>{Simd<V>::acc_total(t.s)};  // the same tree, on vectors
#endif
    double l[lanes_v<V>];
    for (int i = 0; i < lanes_v<V>; ++i) l[i] = Simd<V>::acc_lane(t.s, i);
    for (int w = lanes_v<V> / 2; w >= 1; w /= 2)
      for (int i = 0; i < w; ++i) l[i] += l[i + w];
    return SumAcc<float>{l[0]};
  }
  TESSEL_HOST_DEVICE TESSEL_FUSE_INLINE void merge(const SumAcc& o) { s += o.s; }
};

template <class V>
struct MaxAcc {
  V m = splat<V>(detail::neg_inf());
  template <bool kTail>
  TESSEL_HOST_DEVICE TESSEL_FUSE_INLINE void add(const V& v, int n) {
#if defined(__CUDACC__)
    if constexpr (is_dvec_v<V>) {
      // The CUDA runner's vectors (never a tail): one running max per thread, in lane 0, folded
      // with fmaxf, which drops a NaN as where(v > m, v, m) does (m starts at -inf: never NaN).
      // Seven registers fewer than a max per lane: rmsnorm_quant's kernel spilled with those.
      static_assert(!kTail && lanes_v<V> == 8, "the CUDA runner passes whole DVecF");
      float a = fmaxf(fmaxf(v.v[0], v.v[1]), fmaxf(v.v[2], v.v[3]));
      float b = fmaxf(fmaxf(v.v[4], v.v[5]), fmaxf(v.v[6], v.v[7]));
      m.v[0] = fmaxf(m.v[0], fmaxf(a, b));
      return;
    }
#endif
    m = max(m, detail::masked<kTail>(v, n, detail::neg_inf()));
  }
  TESSEL_HOST_DEVICE TESSEL_FUSE_INLINE MaxAcc<float> lanes() const {
#if defined(__CUDACC__)
    if constexpr (is_dvec_v<V>) return MaxAcc<float>{m.v[0]};  // see add()
#endif
    return MaxAcc<float>{Simd<V>::reduce_max(m)};
  }
  TESSEL_HOST_DEVICE TESSEL_FUSE_INLINE void merge(const MaxAcc& o) { m = o.m > m ? o.m : m; }
};

// Online softmax statistics: a running max m and the sum of exp(x - m), rescaled by exp(m_old -
// m_new) whenever the max grows, so one pass gives both. m starts at the lowest finite float, so
// exp(x - m) never meets inf - inf.
template <class V>
struct SoftmaxAcc {
  V m = splat<V>(-3.402823466e38f);
  typename Simd<V>::Acc64 s{};
  template <bool kTail>
  TESSEL_HOST_DEVICE TESSEL_FUSE_INLINE void add(const V& v, int n) {
    if constexpr (lanes_v<V> == 1) {
      // One lane (a CUDA thread): rescale only when the max grows, so an element costs one exp,
      // not two. Same values as the branch-free form below (exp(0) is exactly 1; NaN fails x > m
      // and reaches the sum through exp(x - m), as there).
      if (v > m) {
        Simd<V>::acc_scale(s, exp(m - v));
        m = v;
      }
      Simd<V>::acc_add(s, exp(v - m));
      return;
    }
#if defined(__CUDACC__)
    if constexpr (is_dvec_v<V>) {
      // The CUDA runner's vectors (never a tail there): the thread keeps one running max and one
      // sum, in lane 0 of m and s (fewer live registers: the kernel is capped at 64), so an element
      // costs one exp, and a vector's exps are summed in f32 before one double add instead of
      // eight. lanes() below reads this layout.
      static_assert(!kTail, "the CUDA runner passes whole vectors");
      const float mv = Simd<V>::reduce_max(v);
      float m0 = m.v[0];
      if (mv > m0) {
        s.v[0] *= double(exp(m0 - mv));
        m0 = mv;
        m.v[0] = mv;
      }
      s.v[0] += double(Simd<V>::reduce_sum(detail::lanes_map(v, [m0](float x) { return detail::exp_minus(x, m0); })));
      return;
    }
#endif
    // CPU vectors: rescale only when the max grows in some lane, which after a row's first vectors
    // is rare, so an element costs about one exp instead of two. The same values as rescaling every
    // time (exp(0) is exactly 1; a NaN lane is never greater, and max keeps m there, as it would).
    const V x = detail::masked<kTail>(v, n, detail::neg_inf());
    if (Simd<V>::any_greater(x, m)) {
      const V mn = max(m, x);
      Simd<V>::acc_scale(s, exp(m - mn));
      m = mn;
    }
    Simd<V>::acc_add(s, exp(x - m));
  }
  TESSEL_HOST_DEVICE TESSEL_FUSE_INLINE SoftmaxAcc<float> lanes() const {
#if defined(__CUDACC__)
    if constexpr (is_dvec_v<V>) return SoftmaxAcc<float>{Simd<V>::lane(m, 0), s.v[0]};  // see add()
#endif
    const float mx = Simd<V>::reduce_max(m);
    double t = 0;
    for (int i = 0; i < lanes_v<V>; ++i)
      t += Simd<V>::acc_lane(s, i) * detail::exp_d(double(Simd<V>::lane(m, i)) - double(mx));
    return SoftmaxAcc<float>{mx, t};
  }
  TESSEL_HOST_DEVICE TESSEL_FUSE_INLINE void merge(const SoftmaxAcc& o) {
    const float mx = o.m > m ? o.m : m;
#if defined(__CUDA_ARCH__)
    // A GPU row merges hundreds of these (5 shuffle levels per warp, then the group's warps in
    // every thread): a double-precision exp each took most of softmax's time (16% of copy
    // bandwidth on the H200). The f32 factor's error, about |m - mx| * 6e-8 relative, is far below
    // any tolerance that a softmax of f32 or bf16 is held to.
    s = s * double(fuse::exp(float(double(m) - mx))) + o.s * double(fuse::exp(float(double(o.m) - mx)));
#else
    s = s * detail::exp_d(double(m) - mx) + o.s * detail::exp_d(double(o.m) - mx);
#endif
    m = mx;
  }
};

// ---- Reads -----------------------------------------------------------------------------------------

// Contiguous columns of row `row` at p + row * row_stride. row_stride 0 broadcasts one row (a
// weight, a bias) to every row.
template <class T>
struct Read : OpBase {
  static constexpr Kind kind = Kind::read;
  const typename T::storage* p = nullptr;
  int64_t row_stride = 0;
  template <class V, class A>
  TESSEL_HOST_DEVICE TESSEL_FUSE_INLINE void load(V& out, const A& at) const {
    const auto* q = p + at.row * row_stride + at.col;
    if constexpr (A::tail)
      out = T::template load_n<V>(q, at.n);
    else
      out = T::template load<V>(q);
  }
  TESSEL_HOST_DEVICE bool vec_ok(int lanes) const { return detail::vec_aligned(p, row_stride, lanes); }
  // The CPU runner calls this once per vector as it reads (row, col): see detail::prefetch_ahead.
  // A broadcast row (row_stride 0) stays in cache and needs none.
  TESSEL_HOST_DEVICE TESSEL_FUSE_INLINE void prefetch(int64_t row, int64_t col) const {
    if (row_stride != 0) detail::prefetch_ahead(p + row * row_stride + col);
  }
};

// One value per row, broadcast along the row (a per-row scale, a per-token bias).
template <class T>
struct ReadCol : VecOpBase {
  static constexpr Kind kind = Kind::read;
  const typename T::storage* p = nullptr;
  int64_t row_stride = 1;
  template <class V, class A>
  TESSEL_HOST_DEVICE TESSEL_FUSE_INLINE void load(V& out, const A& at) const {
    out = splat<V>(T::template load<float>(p + at.row * row_stride));
  }
};

// Any strides, columns included (a transposed or sliced view). On the CPU the lanes are gathered
// one at a time: correct everywhere, fast only where col_stride is 1 (use Read there).
template <class T>
struct ReadStrided : OpBase {
  static constexpr Kind kind = Kind::read;
  const typename T::storage* p = nullptr;
  int64_t row_stride = 0, col_stride = 1;
  template <class V, class A>
  TESSEL_HOST_DEVICE TESSEL_FUSE_INLINE void load(V& out, const A& at) const {
    const auto* q = p + at.row * row_stride + at.col * col_stride;
    if constexpr (lanes_v<V> == 1) {
      out = T::template load<V>(q);
    } else {
      out = splat<V>(0.0f);
      const int n = A::tail ? at.n : lanes_v<V>;
      for (int i = 0; i < n; ++i) out[i] = T::template load<float>(q + i * col_stride);
    }
  }
};

// Quantized values times their scale: int8 or fp8 e4m3 codes, with one f32 scale per row
// (scale_row_stride 1) or per tensor (scale_row_stride 0).
template <class T>
struct ReadDequant : OpBase {
  static constexpr Kind kind = Kind::read;
  const typename T::storage* p = nullptr;
  int64_t row_stride = 0;
  const float* scale = nullptr;
  int64_t scale_row_stride = 1;
  template <class V, class A>
  TESSEL_HOST_DEVICE TESSEL_FUSE_INLINE void load(V& out, const A& at) const {
    const auto* q = p + at.row * row_stride + at.col;
    const float s = scale[at.row * scale_row_stride];
    if constexpr (A::tail)
      out = T::template load_n<V>(q, at.n) * s;
    else
      out = T::template load<V>(q) * s;
  }
  TESSEL_HOST_DEVICE bool vec_ok(int lanes) const { return detail::vec_aligned(p, row_stride, lanes); }
  TESSEL_HOST_DEVICE TESSEL_FUSE_INLINE void prefetch(int64_t row, int64_t col) const {
    detail::prefetch_ahead(p + row * row_stride + col);
  }
};

// ---- Elementwise ops ------------------------------------------------------------------------------
// User functors take the destination first, then the inputs, all as V (a template parameter):
//   struct Twice { template <class V> TESSEL_HOST_DEVICE void operator()(V& y, const V& x) const { y = x + x; } };
// Arguments by reference keep 64-byte vectors off any call boundary (GCC would note an ABI change).

template <class F>
struct Map : VecOpBase {
  static constexpr Kind kind = Kind::map;
  F f;
  template <class V, class A>
  TESSEL_HOST_DEVICE TESSEL_FUSE_INLINE void apply(V& v, const A&) const {
    const V x = v;
    f(v, x);
  }
};

// f(y, v, w) with w read from `src` (a read op, or a chain of reads and maps) at the same place.
template <class F, class Src>
struct Zip {
  static constexpr Kind kind = Kind::map;
  F f;
  Src src;
  TESSEL_HOST_DEVICE TESSEL_FUSE_INLINE void begin_row(int64_t r) { src.begin_row(r); }
  TESSEL_HOST_DEVICE bool vec_ok(int lanes) const
    requires VecCapable<Src>
  {
    return src.vec_ok(lanes);
  }
  TESSEL_HOST_DEVICE TESSEL_FUSE_INLINE void prefetch(int64_t row, int64_t col) const {
    if constexpr (requires { src.prefetch(row, col); }) src.prefetch(row, col);
  }
  template <class V, class A>
  TESSEL_HOST_DEVICE TESSEL_FUSE_INLINE void apply(V& v, const A& at) const {
    V w;
    src.load(w, at);
    const V x = v;
    f(v, x, w);
  }
};

namespace fn {
struct Add {
  template <class V>
  TESSEL_HOST_DEVICE TESSEL_FUSE_INLINE void operator()(V& y, const V& a, const V& b) const {
    y = a + b;
  }
};
struct Sub {
  template <class V>
  TESSEL_HOST_DEVICE TESSEL_FUSE_INLINE void operator()(V& y, const V& a, const V& b) const {
    y = a - b;
  }
};
struct Mul {
  template <class V>
  TESSEL_HOST_DEVICE TESSEL_FUSE_INLINE void operator()(V& y, const V& a, const V& b) const {
    y = a * b;
  }
};
struct Div {
  template <class V>
  TESSEL_HOST_DEVICE TESSEL_FUSE_INLINE void operator()(V& y, const V& a, const V& b) const {
    y = a / b;
  }
};
struct Silu {
  template <class V>
  TESSEL_HOST_DEVICE TESSEL_FUSE_INLINE void operator()(V& y, const V& x) const {
    y = fuse::silu(x);
  }
};
struct Sigmoid {
  template <class V>
  TESSEL_HOST_DEVICE TESSEL_FUSE_INLINE void operator()(V& y, const V& x) const {
    y = fuse::sigmoid(x);
  }
};
struct GeluTanh {
  template <class V>
  TESSEL_HOST_DEVICE TESSEL_FUSE_INLINE void operator()(V& y, const V& x) const {
    y = fuse::gelu_tanh(x);
  }
};
struct GeluErf {
  template <class V>
  TESSEL_HOST_DEVICE TESSEL_FUSE_INLINE void operator()(V& y, const V& x) const {
    y = fuse::gelu_erf(x);
  }
};
struct Relu {
  template <class V>
  TESSEL_HOST_DEVICE TESSEL_FUSE_INLINE void operator()(V& y, const V& x) const {
    y = fuse::relu(x);
  }
};
struct Scale {
  float a;
  template <class V>
  TESSEL_HOST_DEVICE TESSEL_FUSE_INLINE void operator()(V& y, const V& x) const {
    y = x * a;
  }
};
struct Shift {
  float b;
  template <class V>
  TESSEL_HOST_DEVICE TESSEL_FUSE_INLINE void operator()(V& y, const V& x) const {
    y = x + b;
  }
};
template <class T>
struct Cast {
  template <class V>
  TESSEL_HOST_DEVICE TESSEL_FUSE_INLINE void operator()(V& y, const V& x) const {
    y = round_to<T>(x);
  }
};
}  // namespace fn

// ---- Row reductions ---------------------------------------------------------------------------------
// Each runs over the row first (a pass of its own), then transforms every element with the result.

// v * 1/sqrt(mean(v^2) + eps): RMSNorm without its weight.
struct RmsScale : VecOpBase {
  static constexpr Kind kind = Kind::reduce;
  template <class V>
  using Acc = SumAcc<V>;
  float eps = 1e-6f;
  float scale = 0;
  template <bool kTail, class V>
  TESSEL_HOST_DEVICE TESSEL_FUSE_INLINE void add(Acc<V>& a, const V& v, int n) const {
    a.template add<kTail>(v * v, n);
  }
  TESSEL_HOST_DEVICE TESSEL_FUSE_INLINE void finish(const Acc<float>& a, int64_t cols) {
    scale = float(detail::rsqrt_d(detail::div_d(a.s, double(cols)) + double(eps)));
  }
  template <class V, class A>
  TESSEL_HOST_DEVICE TESSEL_FUSE_INLINE void apply(V& v, const A&) const {
    v = v * scale;
  }
};

// v - mean(v). Followed by RmsScale it is LayerNorm's exact two-pass variance.
struct Center : VecOpBase {
  static constexpr Kind kind = Kind::reduce;
  template <class V>
  using Acc = SumAcc<V>;
  float mean = 0;
  template <bool kTail, class V>
  TESSEL_HOST_DEVICE TESSEL_FUSE_INLINE void add(Acc<V>& a, const V& v, int n) const {
    a.template add<kTail>(v, n);
  }
  TESSEL_HOST_DEVICE TESSEL_FUSE_INLINE void finish(const Acc<float>& a, int64_t cols) {
    mean = float(detail::div_d(a.s, double(cols)));
  }
  template <class V, class A>
  TESSEL_HOST_DEVICE TESSEL_FUSE_INLINE void apply(V& v, const A&) const {
    v = v - mean;
  }
};

// exp(v - max) / sum(exp(v - max)), from online statistics: one statistics pass, one output pass.
struct Softmax : VecOpBase {
  static constexpr Kind kind = Kind::reduce;
  template <class V>
  using Acc = SoftmaxAcc<V>;
  float mx = 0, inv = 0;
  template <bool kTail, class V>
  TESSEL_HOST_DEVICE TESSEL_FUSE_INLINE void add(Acc<V>& a, const V& v, int n) const {
    a.template add<kTail>(v, n);
  }
  TESSEL_HOST_DEVICE TESSEL_FUSE_INLINE void finish(const Acc<float>& a, int64_t) {
    mx = a.m;
    inv = float(detail::div_d(1.0, a.s));
  }
  template <class V, class A>
  TESSEL_HOST_DEVICE TESSEL_FUSE_INLINE void apply(V& v, const A&) const {
#if defined(__CUDACC__)
    if constexpr (is_dvec_v<V>) {
      const float m = mx, r = inv;
      v = detail::lanes_map(v, [m, r](float x) { return detail::exp_minus(x, m) * r; });
      return;
    }
#endif
    v = exp(v - mx) * inv;
  }
};

// Softmax in two reductions, for rows held in registers (the CUDA runner's stash):
//   chain(read, exp_minus_max(), normalize_sum(), write)
// exp_minus_max reduces the row's max and maps v to e^(v - max); normalize_sum reduces the sum of
// those and divides by it. One exp per element, no rescaling: Softmax's online statistics take an
// exp per element in each of its two passes, plus one per merge, which made softmax compute-bound
// on the H200 (82% SM throughput, 39% DRAM; bench/results/h200/session3/). Softmax stays the
// choice where a row is re-read from memory for each pass (two passes there, not three).
struct ExpMinusMax : VecOpBase {
  static constexpr Kind kind = Kind::reduce;
  template <class V>
  using Acc = MaxAcc<V>;
  float mx = 0;
  template <bool kTail, class V>
  TESSEL_HOST_DEVICE TESSEL_FUSE_INLINE void add(Acc<V>& a, const V& v, int n) const {
    a.template add<kTail>(v, n);
  }
  TESSEL_HOST_DEVICE TESSEL_FUSE_INLINE void finish(const Acc<float>& a, int64_t) { mx = a.m; }
  template <class V, class A>
  TESSEL_HOST_DEVICE TESSEL_FUSE_INLINE void apply(V& v, const A&) const {
#if defined(__CUDACC__)
    if constexpr (is_dvec_v<V>) {
      const float m = mx;
      v = detail::lanes_map(v, [m](float x) { return detail::exp_minus(x, m); });
      return;
    }
#endif
    v = exp(v - mx);
  }
};
struct NormalizeSum : VecOpBase {
  static constexpr Kind kind = Kind::reduce;
  template <class V>
  using Acc = SumAcc<V>;
  float inv = 0;
  template <bool kTail, class V>
  TESSEL_HOST_DEVICE TESSEL_FUSE_INLINE void add(Acc<V>& a, const V& v, int n) const {
    a.template add<kTail>(v, n);
  }
  TESSEL_HOST_DEVICE TESSEL_FUSE_INLINE void finish(const Acc<float>& a, int64_t) {
    inv = float(detail::div_d(1.0, a.s));
  }
  template <class V, class A>
  TESSEL_HOST_DEVICE TESSEL_FUSE_INLINE void apply(V& v, const A&) const {
    v = v * inv;
  }
};

// Row statistics for user row ops (row<Stat>(f) below).
namespace stat {
struct Sum {
  template <class V>
  using Acc = SumAcc<V>;
  template <class V>
  TESSEL_HOST_DEVICE static V input(const V& v) {
    return v;
  }
  TESSEL_HOST_DEVICE static float result(const SumAcc<float>& a, int64_t) { return float(a.s); }
};
struct Mean {
  template <class V>
  using Acc = SumAcc<V>;
  template <class V>
  TESSEL_HOST_DEVICE static V input(const V& v) {
    return v;
  }
  TESSEL_HOST_DEVICE static float result(const SumAcc<float>& a, int64_t cols) {
    return float(detail::div_d(a.s, double(cols)));
  }
};
struct MeanSquare {
  template <class V>
  using Acc = SumAcc<V>;
  template <class V>
  TESSEL_HOST_DEVICE static V input(const V& v) {
    return v * v;
  }
  TESSEL_HOST_DEVICE static float result(const SumAcc<float>& a, int64_t cols) {
    return float(detail::div_d(a.s, double(cols)));
  }
};
struct Max {
  template <class V>
  using Acc = MaxAcc<V>;
  template <class V>
  TESSEL_HOST_DEVICE static V input(const V& v) {
    return v;
  }
  TESSEL_HOST_DEVICE static float result(const MaxAcc<float>& a, int64_t) { return a.m; }
};
struct AbsMax {
  template <class V>
  using Acc = MaxAcc<V>;
  template <class V>
  TESSEL_HOST_DEVICE static V input(const V& v) {
    return fuse::abs(v);
  }
  TESSEL_HOST_DEVICE static float result(const MaxAcc<float>& a, int64_t) { return a.m; }
};
}  // namespace stat

// A user row op: f(v, s) for every element, s the row's statistic (a float).
template <class Stat, class F>
struct RowOp : VecOpBase {
  static constexpr Kind kind = Kind::reduce;
  template <class V>
  using Acc = typename Stat::template Acc<V>;
  F f;
  float s = 0;
  template <bool kTail, class V>
  TESSEL_HOST_DEVICE TESSEL_FUSE_INLINE void add(Acc<V>& a, const V& v, int n) const {
    a.template add<kTail>(Stat::input(v), n);
  }
  TESSEL_HOST_DEVICE TESSEL_FUSE_INLINE void finish(const Acc<float>& a, int64_t cols) { s = Stat::result(a, cols); }
  template <class V, class A>
  TESSEL_HOST_DEVICE TESSEL_FUSE_INLINE void apply(V& v, const A&) const {
    const V x = v;
    f(v, x, s);
  }
};

// ---- Writes ------------------------------------------------------------------------------------------

// Stores the value at p + row * row_stride + col in the final pass and passes it on (so a write in
// the middle of a chain is a tee: the residual of rmsnorm_residual).
template <class T>
struct Write : OpBase {
  static constexpr Kind kind = Kind::write;
  typename T::storage* p = nullptr;
  int64_t row_stride = 0;
  template <class V, class A>
  TESSEL_HOST_DEVICE TESSEL_FUSE_INLINE void apply(V& v, const A& at) const {
    if constexpr (A::final_pass) detail::store<T>(p + at.row * row_stride + at.col, v, at);
  }
  // apply() right after a cast to T (the chain calls it then: kExactWrite).
  template <class V, class A>
  TESSEL_HOST_DEVICE TESSEL_FUSE_INLINE void apply_exact(V& v, const A& at) const {
    if constexpr (A::final_pass) detail::store<T, true>(p + at.row * row_stride + at.col, v, at);
  }
  TESSEL_HOST_DEVICE bool vec_ok(int lanes) const { return detail::vec_aligned(p, row_stride, lanes); }
};

// Whether op Next writes the values op Prev has just cast to the written type (rmsnorm_residual's
// updated residual): the write then needs no rounding of its own.
template <class Prev, class Next>
inline constexpr bool kExactWrite = false;
template <class T>
inline constexpr bool kExactWrite<Map<fn::Cast<T>>, Write<T>> = true;

namespace detail {
// Stores the codes of v * inv (inv = qmax / max|v| over v's row, or 0) at dst. v * (1/scale) rather
// than v / scale: a vector divide per element would cost more than the memory traffic. The extra
// rounding can move q across a midpoint (one step), which any consumer of round-to-nearest
// quantization already tolerates.
template <class T, class V, class A>
TESSEL_HOST_DEVICE TESSEL_FUSE_INLINE void store_codes(typename T::storage* dst, const V& v, float inv, const A& at) {
  const V qv = v * inv;
#if defined(__CUDA_ARCH__)
  if constexpr (std::is_same_v<T, i8> && is_dvec_v<V> && !A::tail) {
    // |v| <= max|v| over the same values, so |qv| <= 127 (1 + 2^-23)^2 whenever inv is finite: the
    // int8 store needs no clamp (an infinite max gives inv = 0 and qv NaN, stored as 0). inv
    // overflows only for a row whose max is below 127 / FLT_MAX; that row keeps the clamp.
    if (inv <= FLT_MAX)
      T::template store_dvec<false>(dst, qv);
    else
      T::template store_dvec<true>(dst, qv);
    return;
  }
#endif
  store<T>(dst, qv, at);
}
}  // namespace detail

// Quantizing write with a per-row scale: scale = max|v| / T::kMax over the row, q = round(v /
// scale) in T (e4m3: to nearest even, saturating at 448; i8: to nearest even; computed as v times
// 1/scale, so a value at a midpoint may round either way). A row of zeros gets
// scale 0 and q 0. The scale goes to scale_p[row * scale_row_stride]. It reduces (the row's
// absolute max) before it writes, so it costs a pass like any row reduction.
template <class T>
struct WriteQuant : OpBase {
  static constexpr Kind kind = Kind::reduce;
  static constexpr bool kStores = true;  // its apply stores (runners split passes before a store)
  template <class V>
  using Acc = MaxAcc<V>;
  typename T::storage* q = nullptr;
  int64_t q_row_stride = 0;
  float* scale_p = nullptr;
  int64_t scale_row_stride = 1;
  float scale = 0;
  template <bool kTail, class V>
  TESSEL_HOST_DEVICE TESSEL_FUSE_INLINE void add(Acc<V>& a, const V& v, int n) const {
    a.template add<kTail>(fuse::abs(v), n);
  }
  float inv = 0;  // qmax / max|v| (1 / scale up to an ulp), or 0 for a row of zeros
  TESSEL_HOST_DEVICE TESSEL_FUSE_INLINE void finish(const Acc<float>& a, int64_t) {
    scale = a.m / T::kMax;
    // One division fewer than 1.0f / scale (on the GPU each is a few dozen instructions per thread
    // and row); it differs from 1 / scale by an ulp at most, within the midpoint tolerance below.
    inv = scale > 0.0f ? T::kMax / a.m : 0.0f;
  }
  template <class V, class A>
  TESSEL_HOST_DEVICE TESSEL_FUSE_INLINE void apply(V& v, const A& at) const {
    if constexpr (A::final_pass) {
      detail::store_codes<T>(q + at.row * q_row_stride + at.col, v, inv, at);
      if (at.col == 0) scale_p[at.row * scale_row_stride] = scale;
    }
  }
  TESSEL_HOST_DEVICE bool vec_ok(int lanes) const { return detail::vec_aligned(q, q_row_stride, lanes); }
};

// The quantizing write of RMSNorm's output, given v = x * w (src reads x at v's place). rmsnorm(x) *
// w is v times 1 / rms(x), one positive factor per row, which changes a row's codes not at all and
// its scale by the same factor. So with rms(x) = sqrt(mean(x^2) + eps),
//   q = round(v * qmax / max|v|),   scale = max|v| / (rms(x) * qmax)
// are write_quant's q and scale for rmsnorm(x) * w, and v is never multiplied by 1 / rms(x). Its one
// row reduction takes sum(x^2) and max|v| together, where rms_scale -> mul -> write_quant takes
// two in sequence (on the GPU each is a round of shuffles and barriers per row). Reading x again
// costs no memory traffic: the load is the chain's own at the same address, and the compilers fold
// the two. On the GPU x then stays in registers next to v until its square is summed: bf16 x, packed
// two to a register, fits (rmsnorm_quant 1.01-1.08x, H200); f32 x with 4 vector slots spilled
// (0.80x), and rmsnorm_quant's CUDA chain keeps rms_scale -> write_quant for it. A row whose sum of
// squares overflows (rms infinite) gets scale 0, as through rms_scale.
template <class T, class Src>
struct WriteQuantRms : OpBase {
  static constexpr Kind kind = Kind::reduce;
  static constexpr bool kStores = true;
  template <class V>
  struct Acc {
    SumAcc<V> squares;
    MaxAcc<V> abs_max;
    TESSEL_HOST_DEVICE TESSEL_FUSE_INLINE Acc<float> lanes() const { return {squares.lanes(), abs_max.lanes()}; }
    TESSEL_HOST_DEVICE TESSEL_FUSE_INLINE void merge(const Acc& o) {
      squares.merge(o.squares);
      abs_max.merge(o.abs_max);
    }
  };
  typename T::storage* q = nullptr;
  int64_t q_row_stride = 0;
  float* scale_p = nullptr;
  int64_t scale_row_stride = 1;
  Src src;  // x, the values the mean square runs over
  float eps = 1e-6f;
  float scale = 0;
  float inv = 0;  // qmax / max|v|, or 0 for a row of zeros
  TESSEL_HOST_DEVICE TESSEL_FUSE_INLINE void begin_row(int64_t r) { src.begin_row(r); }
  template <bool kTail, class V, class A>
  TESSEL_HOST_DEVICE TESSEL_FUSE_INLINE void add_at(Acc<V>& a, const V& v, const A& at) const {
    V x;
    src.load(x, at);
    a.squares.template add<kTail>(x * x, at.n);
    a.abs_max.template add<kTail>(fuse::abs(v), at.n);
  }
  TESSEL_HOST_DEVICE TESSEL_FUSE_INLINE void finish(const Acc<float>& a, int64_t cols) {
    const float inv_rms = float(detail::rsqrt_d(detail::div_d(a.squares.s, double(cols)) + double(eps)));
    const float m = a.abs_max.m;
    scale = inv_rms > 0.0f ? inv_rms * (m / T::kMax) : 0.0f;
    inv = m > 0.0f ? T::kMax / m : 0.0f;
  }
  template <class V, class A>
  TESSEL_HOST_DEVICE TESSEL_FUSE_INLINE void apply(V& v, const A& at) const {
    if constexpr (A::final_pass) {
      detail::store_codes<T>(q + at.row * q_row_stride + at.col, v, inv, at);
      if (at.col == 0) scale_p[at.row * scale_row_stride] = scale;
    }
  }
  TESSEL_HOST_DEVICE bool vec_ok(int lanes) const
    requires VecCapable<Src>
  {
    return detail::vec_aligned(q, q_row_stride, lanes) && src.vec_ok(lanes);
  }
};

namespace detail {
// A reduction's accumulate step for the runners: add_at when the op reads other inputs at v's
// place, else add.
template <bool kTail, class Op, class Acc, class V, class A>
TESSEL_HOST_DEVICE TESSEL_FUSE_INLINE void accumulate(const Op& op, Acc& acc, const V& v, const A& at) {
  if constexpr (requires { op.template add_at<kTail>(acc, v, at); })
    op.template add_at<kTail>(acc, v, at);
  else
    op.template add<kTail>(acc, v, at.n);
}
}  // namespace detail

// ---- Factories ------------------------------------------------------------------------------------

template <class T>
TESSEL_HOST_DEVICE Read<T> read(const typename T::storage* p, int64_t row_stride) {
  return {{}, p, row_stride};
}
// One row for every row (row stride 0): weights and biases.
template <class T>
TESSEL_HOST_DEVICE Read<T> read_bcast(const typename T::storage* p) {
  return {{}, p, 0};
}
template <class T>
TESSEL_HOST_DEVICE ReadCol<T> read_col(const typename T::storage* p, int64_t row_stride = 1) {
  return {{}, p, row_stride};
}
template <class T>
TESSEL_HOST_DEVICE ReadStrided<T> read_strided(const typename T::storage* p, int64_t row_stride, int64_t col_stride) {
  return {{}, p, row_stride, col_stride};
}
template <class T>
TESSEL_HOST_DEVICE ReadDequant<T> read_dequant(const typename T::storage* p, int64_t row_stride, const float* scale,
                                               int64_t scale_row_stride = 1) {
  return {{}, p, row_stride, scale, scale_row_stride};
}

template <class F>
TESSEL_HOST_DEVICE Map<F> map(const F& f) {
  return {{}, f};
}
template <class F, class Src>
TESSEL_HOST_DEVICE Zip<F, Src> zip(const F& f, const Src& src) {
  return {f, src};
}
template <class Src>
TESSEL_HOST_DEVICE Zip<fn::Add, Src> add(const Src& src) {
  return {{}, src};
}
template <class Src>
TESSEL_HOST_DEVICE Zip<fn::Sub, Src> sub(const Src& src) {
  return {{}, src};
}
template <class Src>
TESSEL_HOST_DEVICE Zip<fn::Mul, Src> mul(const Src& src) {
  return {{}, src};
}
template <class Src>
TESSEL_HOST_DEVICE Zip<fn::Div, Src> div(const Src& src) {
  return {{}, src};
}
TESSEL_HOST_DEVICE inline Map<fn::Silu> silu() { return {}; }
TESSEL_HOST_DEVICE inline Map<fn::Sigmoid> sigmoid() { return {}; }
TESSEL_HOST_DEVICE inline Map<fn::GeluTanh> gelu_tanh() { return {}; }
TESSEL_HOST_DEVICE inline Map<fn::GeluErf> gelu_erf() { return {}; }
TESSEL_HOST_DEVICE inline Map<fn::Relu> relu() { return {}; }
TESSEL_HOST_DEVICE inline Map<fn::Scale> scale(float a) { return {{}, {a}}; }
TESSEL_HOST_DEVICE inline Map<fn::Shift> shift(float b) { return {{}, {b}}; }
template <class T>
TESSEL_HOST_DEVICE Map<fn::Cast<T>> cast() {
  return {};
}

TESSEL_HOST_DEVICE inline RmsScale rms_scale(float eps) { return {{}, eps, 0.0f}; }
TESSEL_HOST_DEVICE inline Center center() { return {}; }
TESSEL_HOST_DEVICE inline Softmax softmax() { return {}; }
TESSEL_HOST_DEVICE inline ExpMinusMax exp_minus_max() { return {}; }
TESSEL_HOST_DEVICE inline NormalizeSum normalize_sum() { return {}; }
template <class Stat, class F>
TESSEL_HOST_DEVICE RowOp<Stat, F> row(const F& f) {
  return {{}, f, 0.0f};
}

template <class T>
TESSEL_HOST_DEVICE Write<T> write(typename T::storage* p, int64_t row_stride) {
  return {{}, p, row_stride};
}
template <class T>
TESSEL_HOST_DEVICE WriteQuant<T> write_quant(typename T::storage* q, int64_t q_row_stride, float* scale,
                                             int64_t scale_row_stride = 1) {
  return {{}, q, q_row_stride, scale, scale_row_stride, 0.0f};
}

// rmsnorm(x) * w quantized, from v = x * w: see WriteQuantRms. `x` reads x again (fz::read<T>(x, ld)).
template <class T, class Src>
TESSEL_HOST_DEVICE WriteQuantRms<T, Src> write_quant_rms(typename T::storage* q, int64_t q_row_stride, float* scale,
                                                         const Src& x, float eps, int64_t scale_row_stride = 1) {
  return {{}, q, q_row_stride, scale, scale_row_stride, x, eps, 0.0f, 0.0f};
}

}  // namespace tessel::fuse
