// rmsnorm "cpu.simd": one Highway pass for the mean square (f64 lanes), one for the scaled output
// that also prefetches the next row; threads over rows.
//
// The mean square accumulates in f64 lanes: the conversion is cheap next to the memory traffic,
// and it keeps the result independent of row length (a long f32 sum loses digits). The output is
// computed in f32 as (x * scale) * weight and rounded once to the output dtype. Large outputs are
// written with streaming stores (tunable "stream"), which saves the read-for-ownership of y.

// ---- Shared, target-independent part (compiled once) ---------------------------------------------
#ifndef TESSEL_OPS_RMSNORM_CPU_SHARED_
#define TESSEL_OPS_RMSNORM_CPU_SHARED_

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "rmsnorm.hpp"
#include "tessel/cpu/parallel.hpp"
#include "tessel/runtime/registry.hpp"

namespace tessel::rmsnorm {

struct CpuArgs {
  Shape s;
  const void* x = nullptr;
  const void* w = nullptr;
  void* y = nullptr;
  int threads = 0;
  bool stream = false;  // non-temporal stores for y
};

}  // namespace tessel::rmsnorm

#endif  // TESSEL_OPS_RMSNORM_CPU_SHARED_

// ---- Per-target part (compiled once for every Highway target) -------------------------------------
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "ops/rmsnorm/cpu.cpp"
#include "hwy/foreach_target.h"  // IWYU pragma: keep
#include "hwy/cache_control.h"
#include "hwy/highway.h"
#include "tessel/cpu/simd_io-inl.h"

HWY_BEFORE_NAMESPACE();
namespace tessel::rmsnorm::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// DF, VF, kLanes and the f32/bf16 loads and stores (ScalarToF32, LoadAsF32, StoreF32As, StorePair, ...)
// come from tessel/cpu/simd_io-inl.h, compiled for this same target.
using namespace cpu::HWY_NAMESPACE;

using DD = hn::ScalableTag<double>;
using VD = hn::Vec<DD>;
constexpr int64_t kLanesD = int64_t(hn::MaxLanes(DD()));

// kLanesD elements widened to f64.
template <class T>
HWY_INLINE VD LoadAsF64(const T* p) {
  return hn::PromoteTo(DD(), LoadAsF32(hn::Rebind<float, DD>(), p));
}

// ---- Kernel -----------------------------------------------------------------------------------------

template <class T>
double SumOfSquares(const T* HWY_RESTRICT x, int64_t cols) {
  const DD dd;
  VD a0 = hn::Zero(dd), a1 = hn::Zero(dd), a2 = hn::Zero(dd), a3 = hn::Zero(dd);
  int64_t j = 0;
  // Four independent accumulators hide the FMA latency.
  for (; j + 4 * kLanesD <= cols; j += 4 * kLanesD) {
    const VD v0 = LoadAsF64(x + j), v1 = LoadAsF64(x + j + kLanesD);
    const VD v2 = LoadAsF64(x + j + 2 * kLanesD), v3 = LoadAsF64(x + j + 3 * kLanesD);
    a0 = hn::MulAdd(v0, v0, a0);
    a1 = hn::MulAdd(v1, v1, a1);
    a2 = hn::MulAdd(v2, v2, a2);
    a3 = hn::MulAdd(v3, v3, a3);
  }
  for (; j + kLanesD <= cols; j += kLanesD) {
    const VD v = LoadAsF64(x + j);
    a0 = hn::MulAdd(v, v, a0);
  }
  double ss = hn::GetLane(hn::SumOfLanes(dd, hn::Add(hn::Add(a0, a1), hn::Add(a2, a3))));
  for (; j < cols; ++j) {
    const double v = ScalarToF32(x[j]);
    ss += v * v;
  }
  return ss;
}

// One row. `next` (or nullptr) is the row this thread does after it: prefetching it during the
// output pass, which mostly writes, overlaps its reads with these writes.
template <class T, bool kStream>
void Row(const T* HWY_RESTRICT x, const T* HWY_RESTRICT w, T* HWY_RESTRICT y, int64_t cols, double eps,
         const T* next) {
  const DF df;
  const double ss = SumOfSquares(x, cols);
  const float scale = float(1.0 / std::sqrt(ss / double(cols) + eps));
  const VF vs = hn::Set(df, scale);
  auto one = [&](int64_t j) { ScalarStore((ScalarToF32(x[j]) * scale) * ScalarToF32(w[j]), y + j); };
  int64_t j = 0;
  // Streaming stores need aligned addresses: the first few elements go one at a time.
  if constexpr (kStream)
    for (; j < cols && (reinterpret_cast<uintptr_t>(y + j) & 63) != 0; ++j) one(j);
  // One prefetch per 64-byte line of the next row.
  constexpr int64_t kStepBytes = 2 * kLanes * int64_t(sizeof(T));
  for (; j + 2 * kLanes <= cols; j += 2 * kLanes) {
    if (next)
      for (int64_t b = 0; b < kStepBytes; b += 64) hwy::Prefetch(reinterpret_cast<const char*>(next + j) + b);
    const VF y0 = hn::Mul(hn::Mul(LoadAsF32(df, x + j), vs), LoadAsF32(df, w + j));
    const VF y1 = hn::Mul(hn::Mul(LoadAsF32(df, x + j + kLanes), vs), LoadAsF32(df, w + j + kLanes));
    StorePair<kStream>(y0, y1, y + j);
  }
  for (; j + kLanes <= cols; j += kLanes)
    StoreF32As(hn::Mul(hn::Mul(LoadAsF32(df, x + j), vs), LoadAsF32(df, w + j)), y + j);
  for (; j < cols; ++j) one(j);
}

template <class T, bool kStream>
void RunTyped(const CpuArgs& a) {
  const Shape& s = a.s;
  const auto* x = static_cast<const T*>(a.x);
  const auto* w = static_cast<const T*>(a.w);
  auto* y = static_cast<T*>(a.y);
  // Below about 32K elements per thread, waking a thread costs more than it saves.
  const double elems = double(s.rows) * double(s.cols);
  int threads = a.threads > 0 ? a.threads : cpu::hardware_threads();
  threads = int(std::max(1.0, std::min(double(threads), elems / 32768.0)));
  cpu::parallel_for(s.rows, threads, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r)
      Row<T, kStream>(x + r * s.cols, w, y + r * s.cols, s.cols, s.eps, r + 1 < r1 ? x + (r + 1) * s.cols : nullptr);
    // Streaming stores are weakly ordered: fence them before the pool reports this chunk done.
    if (kStream) hwy::FlushStream();
  });
}

void RmsNormCpu(const CpuArgs& a) {
  if (a.s.dtype == DType::bf16) return a.stream ? RunTyped<uint16_t, true>(a) : RunTyped<uint16_t, false>(a);
  return a.stream ? RunTyped<float, true>(a) : RunTyped<float, false>(a);
}

}  // namespace tessel::rmsnorm::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

// ---- Registration (compiled once) -----------------------------------------------------------------
#if HWY_ONCE
namespace tessel::rmsnorm {

HWY_EXPORT(RmsNormCpu);

namespace {

class CpuSimdRmsNorm final : public Implementation {
 public:
  std::string name() const override { return "cpu.simd"; }
  std::string op() const override { return "rmsnorm"; }
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
    if (t.size() != 3) return Status::invalid("rmsnorm", "tensors", "expected x, weight and y");
    for (const TensorView& v : t)
      if (!v.is_contiguous() || v.device != Device::cpu)
        return Status::unsupported("rmsnorm", "tensors", "cpu.simd needs contiguous host tensors");
    CpuArgs a;
    a.s = Shape::from(p);
    a.x = t[kX].data;
    a.w = t[kWeight].data;
    a.y = t[kY].data;
    a.threads = ctx.threads;
    const int64_t stream = config_value(config, config_space(p), "stream");
    a.stream = stream == 1 ||
               (stream == -1 && double(dtype_storage_bytes(a.s.dtype, a.s.rows * a.s.cols)) >= cpu::kStreamBytes);
    HWY_DYNAMIC_DISPATCH(RmsNormCpu)(a);
    return {};
  }
};

}  // namespace

void register_cpu(Registry& r) { r.add_impl(std::make_unique<CpuSimdRmsNorm>()); }

}  // namespace tessel::rmsnorm
#endif  // HWY_ONCE
