// The rotary read: loads one head vector of q or k already rotated by its token's position (RoPE),
// in the GPT-NeoX layout (rotate halves: element i pairs with i + dim/2) or the GPT-J layout
// (interleaved: element 2i pairs with 2i + 1). For pair (a, b) and frequency index i:
//   a' = a cos(p f_i) - b sin(p f_i),   b' = b cos(p f_i) + a sin(p f_i),   f_i = theta^(-2i/dim).
//
// Rows of the loop nest are (token, head) pairs, token-major, cols = dim. On the CPU the op keeps
// the current token's cos/sin row (the sign folded in, one entry per column) in its per-thread copy
// and recomputes it only when the token changes, so the trig is paid once per token and head
// group, not per element. The angle is formed and reduced modulo pi/2 in double (positions up to
// 2^24 keep the reduced angle exact to ~1e-9); the sine and cosine are float polynomials on
// [-pi/4, pi/4] (Cephes), within an ulp or two. In CUDA device code each thread computes the
// trig of its own columns (8 consecutive ones on the runner's vector path, see load_vector), once
// for the heads of one token that it handles together (load_rows).
#pragma once

#include <cstdint>

#include "tessel/fuse/ops.hpp"

namespace tessel::fuse {

enum class RopeStyle { neox, gptj };

// sin and cos of `a` (double), each rounded to float.
TESSEL_HOST_DEVICE TESSEL_FUSE_INLINE void sincos_f(double a, float& s, float& c) {
  // The same code on the host and the device: double sincos costs about 100 double operations on
  // the GPU, where this costs 5 and matches the CPU bit for bit.
  // k = round(a / (pi/2)) by the 1.5 * 2^52 trick; r = a - k pi/2 with pi/2 in two parts (fdlibm's).
  // The quadrant is k's two low bits, which sit in the low mantissa bits of the shifted value
  // (1.5 * 2^52 + k for |k| < 2^51): read as bits, not through a double-to-integer conversion,
  // which runs on the GPU's slow conversion pipe once per element (rope was compute-bound).
  const double shifted = a * 0.63661977236758134308 + 6755399441055744.0;
  const double kd = shifted - 6755399441055744.0;
  const double rd = (a - kd * 1.57079632673412561417e+00) - kd * 6.07710050650619224932e-11;
#if defined(__CUDA_ARCH__)
  const int q = __double2loint(shifted) & 3;
#else
  const int q = int(__builtin_bit_cast(uint64_t, shifted) & 3);
#endif
  const float r = float(rd);
  const float z = r * r;
  const float sr = r + r * z * (-1.6666654611e-1f + z * (8.3321608736e-3f + z * -1.9515295891e-4f));
  const float cr =
      1.0f - 0.5f * z + z * z * (4.166664568298827e-2f + z * (-1.388731625493765e-3f + z * 2.443315711809948e-5f));
  // Quadrants 0..3: (sin, cos) = (s, c), (c, -s), (-s, -c), (-c, s).
  const float sv = (q & 1) ? cr : sr;
  const float cv = (q & 1) ? sr : cr;
  s = (q & 2) ? -sv : sv;
  c = ((q + 1) & 2) ? -cv : cv;
}

template <class T, RopeStyle kStyle, int kMaxDim = 512>
struct ReadRope {
  static constexpr Kind kind = Kind::read;
  static constexpr int kMax = kMaxDim;
  const typename T::storage* p = nullptr;  // [tokens, heads, dim], contiguous
  int64_t heads = 1;
  int dim = 0;                         // even, at most kMaxDim
  const int32_t* positions = nullptr;  // [tokens]
  const double* inv_freq = nullptr;    // [dim / 2]: theta^(-2i/dim)

#if !defined(__CUDACC__)
  // The current token's table: out[c] = x[c] * cos_[c] + partner(x)[c] * sin_[c].
  int64_t token_ = -1;
  alignas(64) float cos_[kMaxDim];
  alignas(64) float sin_[kMaxDim];

  TESSEL_FUSE_INLINE void begin_row(int64_t row) {
    const int64_t t = row / heads;
    if (t == token_) return;
    token_ = t;
    const double pos = double(positions[t]);
    const int half = dim / 2;
    for (int i = 0; i < half; ++i) {
      float s, c;
      sincos_f(pos * inv_freq[i], s, c);
      if constexpr (kStyle == RopeStyle::neox) {
        cos_[i] = c;
        cos_[i + half] = c;
        sin_[i] = -s;
        sin_[i + half] = s;
      } else {
        cos_[2 * i] = c;
        cos_[2 * i + 1] = c;
        sin_[2 * i] = -s;
        sin_[2 * i + 1] = s;
      }
    }
  }
#else
  TESSEL_HOST_DEVICE void begin_row(int64_t) {}
#endif

  template <class V, class A>
  TESSEL_HOST_DEVICE TESSEL_FUSE_INLINE void load(V& out, const A& at) const {
    const auto* row = p + at.row * dim;
    const int half = dim / 2;
#if defined(__CUDACC__)
    if constexpr (is_dvec_v<V>) {
      load_vector(out, row, int(at.col), double(positions[at.row / heads]));
      return;
    }
    // One column per thread: its pair partner and its own trig.
    const int c = int(at.col);
    const int partner = kStyle == RopeStyle::neox ? (c < half ? c + half : c - half) : (c ^ 1);
    const int i = kStyle == RopeStyle::neox ? (c < half ? c : c - half) : c / 2;
    float s, co;
    sincos_f(double(positions[at.row / heads]) * inv_freq[i], s, co);
    const bool first = kStyle == RopeStyle::neox ? c < half : (c & 1) == 0;
    out = T::template load<V>(row + c) * co + T::template load<V>(row + partner) * (first ? -s : s);
#else
    constexpr int N = lanes_v<V>;
    const int c = int(at.col);
    const int n = A::tail ? at.n : N;
    V x, y;
    if constexpr (A::tail)
      x = T::template load_n<V>(row + c, n);
    else
      x = T::template load<V>(row + c);
    if constexpr (N == 1) {
      const int partner = kStyle == RopeStyle::neox ? (c < half ? c + half : c - half) : (c ^ 1);
      y = T::template load<V>(row + partner);
      out = x * cos_[c] + y * sin_[c];
    } else {
      if constexpr (kStyle == RopeStyle::gptj) {
        // Pairs never straddle a vector (vectors start at even columns): swap neighbouring lanes.
        for (int l = 0; l < N; ++l) y[l] = x[l ^ 1];
      } else if (c + n <= half) {
        if constexpr (A::tail)
          y = T::template load_n<V>(row + c + half, n);
        else
          y = T::template load<V>(row + c + half);
      } else if (c >= half) {
        if constexpr (A::tail)
          y = T::template load_n<V>(row + c - half, n);
        else
          y = T::template load<V>(row + c - half);
      } else {
        // A vector across the middle (dim/2 not a multiple of the lanes): one lane at a time.
        y = splat<V>(0.0f);
        for (int l = 0; l < n; ++l) y[l] = T::template load<float>(row + (c + l < half ? c + l + half : c + l - half));
      }
      const V cv = A::tail ? Simd<V>::load_f32_n(cos_ + c, n) : Simd<V>::load_f32(cos_ + c);
      const V sv = A::tail ? Simd<V>::load_f32_n(sin_ + c, n) : Simd<V>::load_f32(sin_ + c);
      out = x * cv + y * sv;
    }
#endif
  }

  TESSEL_HOST_DEVICE TESSEL_FUSE_INLINE void prefetch(int64_t row, int64_t col) const {
    detail::prefetch_ahead(p + row * dim + col);
  }

  // The CUDA runner's vectors (8 consecutive columns, ops.hpp's VecCapable): whole 16-byte loads of
  // x and, for NeoX, of the partner half (a vector never straddles the middle: dim % 16 == 0), and
  // the frequencies as 16-byte pairs of doubles. Per element that is about a quarter of the float
  // path's memory requests (x, partner, position and frequency each per column). GPT-J pairs sit in
  // neighbouring lanes, so 8 columns need 4 sines and cosines, NeoX's 8.
  TESSEL_HOST_DEVICE bool vec_ok(int lanes) const {
    const int need = kStyle == RopeStyle::neox ? 2 * lanes : lanes;
    return dim % need == 0 && reinterpret_cast<uintptr_t>(p) % (uintptr_t(lanes) * sizeof(*p)) == 0 &&
           reinterpret_cast<uintptr_t>(inv_freq) % 16 == 0;
  }

#if defined(__CUDACC__)
  // Pairs per vector of 8 columns: GPT-J's sit in neighbouring lanes (4), NeoX's in two halves (8).
  static constexpr int kPairs = kStyle == RopeStyle::gptj ? kDeviceLanes / 2 : kDeviceLanes;

  // The sines and cosines of the 8 columns from c at position pos.
  __device__ TESSEL_FUSE_INLINE void trig(int c, double pos, float (&sn)[kPairs], float (&co)[kPairs]) const {
    double f[kPairs];
    if constexpr (kStyle == RopeStyle::gptj)
      load_freqs<kPairs>(inv_freq + c / 2, f);
    else
      load_freqs<kPairs>(inv_freq + (c < dim / 2 ? c : c - dim / 2), f);
    for (int l = 0; l < kPairs; ++l) sincos_f(pos * f[l], sn[l], co[l]);
  }
  // x (the 8 columns from c) and y (NeoX: the partner columns, c -+ dim/2) rotated by those sines
  // and cosines.
  template <class V>
  __device__ TESSEL_FUSE_INLINE void combine(V& out, const V& x, const V& y, int c, const float (&sn)[kPairs],
                                             const float (&co)[kPairs]) const {
    if constexpr (kStyle == RopeStyle::gptj) {
      for (int l = 0; l < kPairs; ++l) {
        const float a = x.v[2 * l], b = x.v[2 * l + 1];
        out.v[2 * l] = a * co[l] - b * sn[l];
        out.v[2 * l + 1] = b * co[l] + a * sn[l];
      }
    } else {
      const bool first = c < dim / 2;
      for (int l = 0; l < kPairs; ++l) out.v[l] = x.v[l] * co[l] + y.v[l] * (first ? -sn[l] : sn[l]);
    }
  }
  template <class V>
  __device__ TESSEL_FUSE_INLINE V partner(const typename T::storage* row, int c) const {
    const int half = dim / 2;
    return T::template load<V>(row + (c < half ? c + half : c - half));
  }
  template <class V>
  __device__ TESSEL_FUSE_INLINE void load_vector(V& out, const typename T::storage* row, int c, double pos) const {
    float sn[kPairs], co[kPairs];
    trig(c, pos, sn, co);
    const V x = T::template load<V>(row + c);
    if constexpr (kStyle == RopeStyle::gptj)
      combine(out, x, x, c, sn, co);
    else
      combine(out, x, partner<V>(row, c), c, sn, co);
  }
  // NeoX's 8 sines and cosines for a 16-thread group on a row of exactly 128 columns: thread t
  // (columns 8t) and thread t ^ 8 (8t -+ 64) take the same 8 frequencies, so each computes 4 and the
  // pair swaps them by shuffle: per column GPT-J's trig count (its pairs share a thread) instead of
  // twice it. Every thread of the 16-lane group must call it together.
  __device__ TESSEL_FUSE_INLINE void trig_shared(int c, double pos, float (&sn)[kPairs], float (&co)[kPairs]) const {
    static_assert(kStyle == RopeStyle::neox && kPairs == 8);
    const unsigned group = 0xffffu << (threadIdx.x & 16);  // this thread's 16 lanes of the warp
    const bool low = (threadIdx.x & 8) == 0;                // computes frequencies 0-3 of the 8, its partner 4-7
    double f[4];
    load_freqs<4>(inv_freq + (c < 64 ? c : c - 64) + (low ? 0 : 4), f);
#pragma unroll
    for (int l = 0; l < 4; ++l) {
      float s, k;
      sincos_f(pos * f[l], s, k);
      const float ps = __shfl_xor_sync(group, s, 8), pk = __shfl_xor_sync(group, k, 8);
      sn[l] = low ? s : ps, sn[l + 4] = low ? ps : s;
      co[l] = low ? k : pk, co[l + 4] = low ? pk : k;
    }
  }
  // K rows' vectors at column col, for the runner's short-row path (consecutive rows, ascending;
  // 16 threads a row, thread t at column 8t). Rows of one token share its sines and cosines:
  // computed once for the K rows (per element that was one double-reduced sincos for NeoX). NeoX
  // loads the partner half again; taking it from the thread dim/16 lanes away by a warp shuffle
  // measured the same (0.997-1.003x on the three rope rows of bench/suites/fusion-h200.txt, H200,
  // 2026-11-28, bench/results/h200/session5/rope-partner/), so the simpler load stays.
  // (Rows number below 2^31, which the runner's supports() checks: the token is a 32-bit division.)
  template <int K>
  __device__ TESSEL_FUSE_INLINE void load_rows(DVecF (&out)[K], const int64_t (&rows)[K], int64_t col) const {
    const int c = int(col);
    const auto token = [this](int64_t r) { return int64_t(uint32_t(r) / uint32_t(heads)); };
    const int64_t t0 = token(rows[0]);
    const bool one_token = t0 == token(rows[K - 1]);
    // Every row's loads first, before the trig and outside any branch: issued after the trig (or
    // behind each row's `!one_token` branch, which the compiler does not hoist loads across), the
    // rows' memory latency followed the position load and a hundred-odd instructions of sines and
    // cosines instead of overlapping them. (Not for f32 NeoX: its 8 vectors of 8 floats would
    // spill; there the rows load in the loop below, as before.)
    constexpr bool kLoadsFirst = !(kStyle == RopeStyle::neox && sizeof(typename T::storage) == 4);
    DVecF x[K], y[K];
    const auto load_row = [&](int k) {
      const auto* row = p + rows[k] * dim;
      x[k] = T::template load<DVecF>(row + c);
      if constexpr (kStyle == RopeStyle::neox) y[k] = partner<DVecF>(row, c);
    };
    if constexpr (kLoadsFirst) {
#pragma unroll
      for (int k = 0; k < K; ++k) load_row(k);
    }
    float sn[kPairs], co[kPairs];
    // The first row's token. (Whole groups agree on one_token and rows, so the 16 lanes that
    // trig_shared needs are all here, whether or not the group's rows hold one token.)
    if constexpr (kStyle == RopeStyle::neox) {
      if (dim == 16 * kDeviceLanes)
        trig_shared(c, double(positions[t0]), sn, co);
      else
        trig(c, double(positions[t0]), sn, co);
    } else {
      trig(c, double(positions[t0]), sn, co);
    }
    // Rows of two or more tokens (heads not a multiple of K): the trig again where the token
    // changes, counted from the first row's place in its token, not for every row as before (heads
    // 6 + 2: NeoX 1.47x, GPT-J 1.09x; H200, session12/call7). No division on the way: with one per
    // row, GPT-J's one-token rows measured 0.96-0.98x (call 6). The first row's trig above now runs
    // outside any branch, which also took NeoX's one-token rows 1.02-1.06x (call 7). A row past the
    // end (clamped to the last) may see a change that is none; its trig is then its own token's,
    // and its output is not stored.
    int64_t place = rows[0] - t0 * heads;
    // Unrolled on purpose: left to the compiler, NeoX's larger body kept the loop rolled, so out[k]
    // (dynamically indexed) lived in local memory, 160 bytes a thread through L1 and L2 (ptxas's
    // "stack frame"): that held NeoX at 41-48% of copy with L2 95% busy. Unrolled: 69-79%, 1.65x
    // (H200, bench/results/h200/session8, call 1). trig_shared stays out of this loop: with it
    // inside, behind a warp vote on token changes, the one-token rows measured 0.83-0.89x (the
    // vote and shuffles kept later rows' loads from moving ahead; call 2); before the loop it
    // gives 1.02-1.03x (call 5).
#pragma unroll
    for (int k = 0; k < K; ++k) {
      if constexpr (!kLoadsFirst) load_row(k);
      if (k > 0 && !one_token && ++place == heads) {
        place = 0;
        trig(c, double(positions[token(rows[k])]), sn, co);
      }
      combine(out[k], x[k], kStyle == RopeStyle::gptj ? x[k] : y[k], c, sn, co);
    }
  }
  template <int K>
  __device__ static TESSEL_FUSE_INLINE void load_freqs(const double* q, double (&f)[K]) {
    for (int l = 0; l < K / 2; ++l) {
      const double2 d = reinterpret_cast<const double2*>(q)[l];
      f[2 * l] = d.x, f[2 * l + 1] = d.y;
    }
  }
#endif
};

// A rotary read of x: [tokens, heads, dim] (rows = tokens * heads, cols = dim).
template <class T, RopeStyle kStyle>
TESSEL_HOST_DEVICE ReadRope<T, kStyle> read_rope(const typename T::storage* x, int64_t heads, int dim,
                                                 const int32_t* positions, const double* inv_freq) {
  ReadRope<T, kStyle> r;
  r.p = x;
  r.heads = heads;
  r.dim = dim;
  r.positions = positions;
  r.inv_freq = inv_freq;
  return r;
}

}  // namespace tessel::fuse
