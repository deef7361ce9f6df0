// softmax "cpu.simd": max-subtracted softmax over rows in Highway, threads over rows.
//
// Rows that fit in cache take three passes (max; exp(x - max) stored as f32 with its sum; scale),
// one exp per element. Longer rows take an online pass that keeps, per lane, a running max m and
// the sum of exp(x - m) (rescaled by exp(m_old - m_new) whenever m grows), then an output pass, so
// x is read from memory twice rather than three times. Exponentials are f32; sums are f64 lanes fed
// with f32 partial sums of four terms, so accuracy does not degrade with row length. The output is
// exp(x - max) * (1 / sum) in f32, rounded once to the output dtype. exp is a short polynomial
// valid for the non-positive arguments softmax makes (ExpNonPositive). Cached rows prefetch the next
// row during their output pass, and large outputs are written with streaming stores (tunable
// "stream"), which saves the read-for-ownership of y.

// ---- Shared, target-independent part (compiled once) ---------------------------------------------
#ifndef TESSEL_OPS_SOFTMAX_CPU_SHARED_
#define TESSEL_OPS_SOFTMAX_CPU_SHARED_

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "softmax.hpp"
#include "tessel/cpu/parallel.hpp"
#include "tessel/runtime/registry.hpp"

namespace tessel::softmax {

struct CpuArgs {
  Shape s;
  const void* x = nullptr;
  void* y = nullptr;
  int threads = 0;
  bool stream = false;  // non-temporal stores for y
};

}  // namespace tessel::softmax

#endif  // TESSEL_OPS_SOFTMAX_CPU_SHARED_

// ---- Per-target part (compiled once for every Highway target) -------------------------------------
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "ops/softmax/cpu.cpp"
#include "hwy/foreach_target.h"  // IWYU pragma: keep
#include "hwy/cache_control.h"
#include "hwy/highway.h"
#include "hwy/contrib/math/math-inl.h"
#include "tessel/cpu/simd_io-inl.h"

HWY_BEFORE_NAMESPACE();
namespace tessel::softmax::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// DF, VF, kLanes and the f32/bf16 loads and stores (ScalarToF32, LoadAsF32, StoreF32As, StorePair, ...)
// come from tessel/cpu/simd_io-inl.h, compiled for this same target.
using namespace cpu::HWY_NAMESPACE;

using DD = hn::ScalableTag<double>;
using VD = hn::Vec<DD>;

// ---- exp ---------------------------------------------------------------------------------------------

// e^x for x <= 0, the only arguments softmax produces: Cody-Waite reduction by ln 2, a degree-5
// polynomial (Cephes expf), and 2^n added straight into the exponent field. Checked against
// double exp over every float in [-86, 0]: at most 1.01 ulp. Results below e^-86, where 2^n would
// leave the normal range, are 0, as is -inf's (a NaN argument also gives 0). About 40% cheaper than
// hn::Exp, which must cover the whole float range; that is most of the in-cache cost.
HWY_INLINE VF ExpNonPositive(VF x) {
  const DF d;
  const hn::RebindToUnsigned<DF> du;
  const VF kMagic = hn::Set(d, 12582912.0f);  // 1.5 * 2^23: adding it rounds to an integer
  const VF xc = hn::Max(x, hn::Set(d, -86.0f));
  const VF t = hn::MulAdd(xc, hn::Set(d, 1.44269504088896341f), kMagic);
  const VF n = hn::Sub(t, kMagic);
  VF r = hn::NegMulAdd(n, hn::Set(d, 0.693359375f), xc);  // ln 2 in two parts: exact n * hi
  r = hn::NegMulAdd(n, hn::Set(d, -2.12194440e-4f), r);
  VF p = hn::Set(d, 1.9875691500E-4f);
  p = hn::MulAdd(p, r, hn::Set(d, 1.3981999507E-3f));
  p = hn::MulAdd(p, r, hn::Set(d, 8.3334519073E-3f));
  p = hn::MulAdd(p, r, hn::Set(d, 4.1665795894E-2f));
  p = hn::MulAdd(p, r, hn::Set(d, 1.6666665459E-1f));
  p = hn::MulAdd(p, r, hn::Set(d, 5.0000001201E-1f));
  const VF y = hn::Add(hn::MulAdd(p, hn::Mul(r, r), r), hn::Set(d, 1.0f));
  // t's low mantissa bits hold n in two's complement, so shifting them to the exponent field adds n.
  const auto scaled = hn::Add(hn::BitCast(du, y), hn::ShiftLeft<23>(hn::BitCast(du, t)));
  return hn::IfThenElseZero(hn::Ge(x, hn::Set(d, -86.0f)), hn::BitCast(d, scaled));
}

// ---- Online max and sum ------------------------------------------------------------------------------

// The f32 lanes of v as f64: lanes [0, N/2) in lo and [N/2, N) in hi (the single-lane scalar target
// uses lo only).
HWY_INLINE void Widen(VF v, VD& lo, VD& hi) {
  const DD dd;
#if HWY_TARGET == HWY_SCALAR
  lo = hn::PromoteTo(dd, v);
  hi = hn::Zero(dd);
#else
  const hn::Half<DF> dh;
  lo = hn::PromoteTo(dd, hn::LowerHalf(dh, v));
  hi = hn::PromoteTo(dd, hn::UpperHalf(dh, v));
#endif
}

struct Online {
  VF m;      // running max per lane; starts at the lowest finite value, so -inf inputs give 0 terms
  VD lo, hi;  // per-lane sum of exp(x - m), as f64
};

// Moves every lane's sum to the new max. Lanes whose max did not change are multiplied by exactly 1.
HWY_INLINE void Rescale(Online& st, VF mnew) {
  const DF df;
  const DD dd;
  if (hn::AllTrue(df, hn::Eq(st.m, mnew))) return;
  VD old_lo, old_hi, new_lo, new_hi;
  Widen(st.m, old_lo, old_hi);
  Widen(mnew, new_lo, new_hi);
  // In f64 the difference is exact and exp is far more precise than f32 needs.
  st.lo = hn::Mul(st.lo, hn::Exp(dd, hn::Sub(old_lo, new_lo)));
  st.hi = hn::Mul(st.hi, hn::Exp(dd, hn::Sub(old_hi, new_hi)));
  st.m = mnew;
}

HWY_INLINE void Accumulate(Online& st, VF partial) {
  VD lo, hi;
  Widen(partial, lo, hi);
  st.lo = hn::Add(st.lo, lo);
  st.hi = hn::Add(st.hi, hi);
}

// Combines the per-lane (max, sum) state into the row's max and 1 / sum.
HWY_INLINE void Finish(const Online& st, float& mx, float& inv) {
  HWY_ALIGN float m[kLanes];
  HWY_ALIGN double s[kLanes];
  hn::Store(st.m, DF(), m);
  hn::Store(st.lo, DD(), s);
  if (kLanes > 1) hn::Store(st.hi, DD(), s + kLanes / 2);
  mx = *std::max_element(m, m + kLanes);
  double sum = 0;
  for (int64_t i = 0; i < kLanes; ++i) sum += s[i] * std::exp(double(m[i]) - double(mx));
  inv = float(1.0 / sum);
}

// The partial vector at x[j, cols) as f32, padded with `fill`.
template <class T>
HWY_INLINE VF LoadTail(const T* x, int64_t j, int64_t cols, float fill) {
  HWY_ALIGN float pad[kLanes];
  for (int64_t i = 0; i < kLanes; ++i) pad[i] = j + i < cols ? ScalarToF32(x[j + i]) : fill;
  return hn::Load(DF(), pad);
}

template <class T>
HWY_INLINE void StoreTail(VF v, T* y, int64_t j, int64_t cols) {
  T tail[kLanes];
  StoreF32As(v, tail);
  std::copy(tail, tail + (cols - j), y + j);
}

// y = exp(x - mx) * inv (or x * inv when !exp). `next` (or nullptr) is prefetched meanwhile: this
// pass mostly writes, so reading the next row now overlaps the two.
template <bool kStream, class TIn, class TOut>
void ScalePass(const TIn* HWY_RESTRICT x, TOut* HWY_RESTRICT y, int64_t cols, float mx, float inv, bool exp,
               const TOut* next) {
  const DF df;
  const VF vmax = hn::Set(df, mx), vinv = hn::Set(df, inv);
  auto f = [&](VF v) { return hn::Mul(exp ? ExpNonPositive(hn::Sub(v, vmax)) : v, vinv); };
  auto one = [&](int64_t j) {
    const float v = ScalarToF32(x[j]);
    ScalarStore((exp ? std::exp(v - mx) : v) * inv, y + j);
  };
  int64_t j = 0;
  // Streaming stores need aligned addresses: the first few elements go one at a time.
  if constexpr (kStream)
    for (; j < cols && (reinterpret_cast<uintptr_t>(y + j) & 63) != 0; ++j) one(j);
  constexpr int64_t kStepBytes = 2 * kLanes * int64_t(sizeof(TOut));  // one prefetch per 64-byte line
  for (; j + 2 * kLanes <= cols; j += 2 * kLanes) {
    if (next)
      for (int64_t b = 0; b < kStepBytes; b += 64) hwy::Prefetch(reinterpret_cast<const char*>(next + j) + b);
    StorePair<kStream>(f(LoadAsF32(df, x + j)), f(LoadAsF32(df, x + j + kLanes)), y + j);
  }
  for (; j + kLanes <= cols; j += kLanes) StoreF32As(f(LoadAsF32(df, x + j)), y + j);
  if (j < cols) StoreTail(f(LoadTail(x, j, cols, 0.0f)), y, j, cols);
}

// Rows too long for cache: an online max-and-sum pass, then the output pass (two reads of x).
// The hardware prefetchers follow these long sequential streams on their own.
template <bool kStream, class T>
void RowOnline(const T* HWY_RESTRICT x, T* HWY_RESTRICT y, int64_t cols) {
  const DF df;
  const DD dd;
  Online st{hn::Set(df, -FLT_MAX), hn::Zero(dd), hn::Zero(dd)};
  int64_t j = 0;
  for (; j + 4 * kLanes <= cols; j += 4 * kLanes) {
    const VF v0 = LoadAsF32(df, x + j), v1 = LoadAsF32(df, x + j + kLanes);
    const VF v2 = LoadAsF32(df, x + j + 2 * kLanes), v3 = LoadAsF32(df, x + j + 3 * kLanes);
    Rescale(st, hn::Max(st.m, hn::Max(hn::Max(v0, v1), hn::Max(v2, v3))));
    const VF e01 = hn::Add(ExpNonPositive(hn::Sub(v0, st.m)), ExpNonPositive(hn::Sub(v1, st.m)));
    const VF e23 = hn::Add(ExpNonPositive(hn::Sub(v2, st.m)), ExpNonPositive(hn::Sub(v3, st.m)));
    Accumulate(st, hn::Add(e01, e23));
  }
  // The remainder, a vector at a time; the last partial vector is padded with -inf (exp gives 0).
  for (; j < cols; j += kLanes) {
    const VF v = j + kLanes <= cols ? LoadAsF32(df, x + j)
                                    : LoadTail(x, j, cols, -std::numeric_limits<float>::infinity());
    Rescale(st, hn::Max(st.m, v));
    Accumulate(st, ExpNonPositive(hn::Sub(v, st.m)));
  }
  float mx, inv;
  Finish(st, mx, inv);
  ScalePass<kStream>(x, y, cols, mx, inv, true, static_cast<const T*>(nullptr));
}

// Rows that fit in cache: max, then exp(x - max) into a per-thread f32 row with its sum, then a
// scale into y. One exp per element instead of two; the extra passes hit L1/L2, and y is written
// once, so it can take streaming stores. The scale pass prefetches `next` (the row this thread
// does after this one, or nullptr), so the next max pass finds it in cache.
template <bool kStream, class T>
void RowCached(const T* HWY_RESTRICT x, T* HWY_RESTRICT y, int64_t cols, float* HWY_RESTRICT e, const T* next) {
  const DF df;
  const DD dd;
  VF m0 = hn::Set(df, -FLT_MAX), m1 = m0;
  int64_t j = 0;
  for (; j + 2 * kLanes <= cols; j += 2 * kLanes) {
    m0 = hn::Max(m0, LoadAsF32(df, x + j));
    m1 = hn::Max(m1, LoadAsF32(df, x + j + kLanes));
  }
  for (; j + kLanes <= cols; j += kLanes) m0 = hn::Max(m0, LoadAsF32(df, x + j));
  float mx = hn::GetLane(hn::MaxOfLanes(df, hn::Max(m0, m1)));
  for (; j < cols; ++j) mx = std::max(mx, ScalarToF32(x[j]));

  const VF vmax = hn::Set(df, mx);
  Online st{vmax, hn::Zero(dd), hn::Zero(dd)};  // only the sums are used
  j = 0;
  for (; j + 4 * kLanes <= cols; j += 4 * kLanes) {
    const VF e0 = ExpNonPositive(hn::Sub(LoadAsF32(df, x + j), vmax));
    const VF e1 = ExpNonPositive(hn::Sub(LoadAsF32(df, x + j + kLanes), vmax));
    const VF e2 = ExpNonPositive(hn::Sub(LoadAsF32(df, x + j + 2 * kLanes), vmax));
    const VF e3 = ExpNonPositive(hn::Sub(LoadAsF32(df, x + j + 3 * kLanes), vmax));
    hn::StoreU(e0, df, e + j);
    hn::StoreU(e1, df, e + j + kLanes);
    hn::StoreU(e2, df, e + j + 2 * kLanes);
    hn::StoreU(e3, df, e + j + 3 * kLanes);
    Accumulate(st, hn::Add(hn::Add(e0, e1), hn::Add(e2, e3)));
  }
  for (; j < cols; j += kLanes) {
    const bool full = j + kLanes <= cols;
    const VF v = full ? LoadAsF32(df, x + j) : LoadTail(x, j, cols, -std::numeric_limits<float>::infinity());
    const VF ev = ExpNonPositive(hn::Sub(v, vmax));
    if (full) {
      hn::StoreU(ev, df, e + j);
    } else {
      HWY_ALIGN float tail[kLanes];
      hn::Store(ev, df, tail);
      std::copy(tail, tail + (cols - j), e + j);
    }
    Accumulate(st, ev);
  }
  float mx_unused, inv;
  Finish(st, mx_unused, inv);
  ScalePass<kStream>(e, y, cols, 0.0f, inv, false, next);
}

// Rows up to this length take RowCached: x, y and the f32 row fit in L2 on current cores.
constexpr int64_t kCachedCols = 32768;

// Per-thread f32 row for RowCached; pool workers are persistent, so this is allocated once per
// thread.
float* ExpRow(int64_t cols) {
  thread_local std::vector<float> row;
  if (int64_t(row.size()) < cols) row.resize(size_t(cols));
  return row.data();
}

template <class T, bool kStream>
void RunTyped(const CpuArgs& a) {
  const Shape& s = a.s;
  const auto* x = static_cast<const T*>(a.x);
  auto* y = static_cast<T*>(a.y);
  // Below about 16K elements per thread, waking a thread costs more than it saves.
  const double elems = double(s.rows) * double(s.cols);
  int threads = a.threads > 0 ? a.threads : cpu::hardware_threads();
  threads = int(std::max(1.0, std::min(double(threads), elems / 16384.0)));
  cpu::parallel_for(s.rows, threads, [&](int64_t r0, int64_t r1) {
    float* e = s.cols <= kCachedCols ? ExpRow(s.cols) : nullptr;
    for (int64_t r = r0; r < r1; ++r) {
      if (e) RowCached<kStream>(x + r * s.cols, y + r * s.cols, s.cols, e, r + 1 < r1 ? x + (r + 1) * s.cols : nullptr);
      else RowOnline<kStream>(x + r * s.cols, y + r * s.cols, s.cols);
    }
    // Streaming stores are weakly ordered: fence them before the pool reports this chunk done.
    if (kStream) hwy::FlushStream();
  });
}

void SoftmaxCpu(const CpuArgs& a) {
  if (a.s.dtype == DType::bf16) return a.stream ? RunTyped<uint16_t, true>(a) : RunTyped<uint16_t, false>(a);
  return a.stream ? RunTyped<float, true>(a) : RunTyped<float, false>(a);
}

}  // namespace tessel::softmax::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

// ---- Registration (compiled once) -----------------------------------------------------------------
#if HWY_ONCE
namespace tessel::softmax {

HWY_EXPORT(SoftmaxCpu);

namespace {

class CpuSimdSoftmax final : public Implementation {
 public:
  std::string name() const override { return "cpu.simd"; }
  std::string op() const override { return "softmax"; }
  Device device() const override { return Device::cpu; }
  int priority() const override { return 10; }

  Support supports(const Problem& p) const override {
    const Shape s = Shape::from(p);
    if (s.dtype != DType::f32 && s.dtype != DType::bf16)
      return Support::no("cpu.simd handles dtype=f32 and dtype=bf16 only");
    return Support::yes();
  }

  std::vector<Tunable> config_space(const Problem&) const override {
    // stream: -1 auto (when y is at least cpu::kStreamBytes), 0 normal stores, 1 streaming stores.
    return {{"stream", {-1, 0, 1}}};
  }

  Status run(const Problem& p, const Config& config, std::span<const TensorView> t,
             const RunContext& ctx) const override {
    if (t.size() != 2) return Status::invalid("softmax", "tensors", "expected x and y");
    for (const TensorView& v : t)
      if (!v.is_contiguous() || v.device != Device::cpu)
        return Status::unsupported("softmax", "tensors", "cpu.simd needs contiguous host tensors");
    CpuArgs a;
    a.s = Shape::from(p);
    a.x = t[kX].data;
    a.y = t[kY].data;
    a.threads = ctx.threads;
    const int64_t stream = config_value(config, config_space(p), "stream");
    a.stream = stream == 1 ||
               (stream == -1 && double(dtype_storage_bytes(a.s.dtype, a.s.rows * a.s.cols)) >= cpu::kStreamBytes);
    HWY_DYNAMIC_DISPATCH(SoftmaxCpu)(a);
    return {};
  }
};

}  // namespace

void register_cpu(Registry& r) { r.add_impl(std::make_unique<CpuSimdSoftmax>()); }

}  // namespace tessel::softmax
#endif  // HWY_ONCE
