// gemm "openblas": OpenBLAS cblas_sgemm as the CPU baseline, with the epilogue as a second pass.
//
// The epilogue (bias, activation, residual) runs after sgemm as one extra pass over C, which is what
// a program built on BLAS does; that keeps fused kernels comparable on epilogue problems, and the
// extra pass is exactly the cost fusion is meant to save.
#ifdef TESSEL_HAVE_OPENBLAS

#include <cblas.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <memory>

#include "gemm.hpp"
#include "tessel/cpu/parallel.hpp"
#include "tessel/runtime/registry.hpp"

namespace tessel::gemm {
namespace {

float activate(Activation act, float x) {
  switch (act) {
    case Activation::silu: return x / (1.0f + std::exp(-x));
    case Activation::gelu:
      return 0.5f * x * (1.0f + std::tanh(0.7978845608028654f * (x + 0.044715f * x * x * x)));
    case Activation::none: break;
  }
  return x;
}

// openblas_set_num_threads is global and may resize OpenBLAS's own pool, so it is called only when
// the requested count changes.
void use_threads(int threads) {
  static std::atomic<int> current{-1};
  const int want = threads > 0 ? threads : cpu::hardware_threads();
  if (current.exchange(want) != want) openblas_set_num_threads(want);
}

class OpenBlasGemm final : public Implementation {
 public:
  std::string name() const override { return "openblas"; }
  std::string op() const override { return "gemm"; }
  Device device() const override { return Device::cpu; }
  bool is_baseline() const override { return true; }
  int priority() const override { return 1; }

  Support supports(const Problem& p) const override {
    const Shape s = Shape::from(p);
    if (s.in != DType::f32) return Support::no("openblas baseline is cblas_sgemm: dtype=f32 only");
    // cblas takes int dimensions (OpenBLAS built with 32-bit integers).
    const int64_t lim = int64_t{1} << 31;
    if (s.m * s.k >= lim || s.n * s.k >= lim || s.m * s.n >= lim)
      return Support::no("openblas baseline: a matrix has 2^31 or more elements (32-bit BLAS indices)");
    return Support::yes();
  }

  Status run(const Problem& p, const Config&, std::span<const TensorView> t, const RunContext& ctx) const override {
    const Shape s = Shape::from(p);
    const TensorIndex ix = TensorIndex::of(s);
    if (t.size() != size_t(ix.c) + 1)
      return Status::invalid("gemm", "tensors", "expected " + std::to_string(ix.c + 1) + " tensors");
    for (const TensorView& v : t)
      if (!v.is_contiguous() || v.device != Device::cpu)
        return Status::unsupported("gemm", "tensors", "openblas needs contiguous host tensors");
    const auto* a = static_cast<const float*>(t[size_t(ix.a)].data);
    const auto* b = static_cast<const float*>(t[size_t(ix.b)].data);
    auto* c = static_cast<float*>(t[size_t(ix.c)].data);
    const int m = int(s.m), n = int(s.n), k = int(s.k);
    use_threads(ctx.threads);
    if (s.b == BLayout::kn)
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1.0f, a, k, b, n, 0.0f, c, n);
    else
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, n, k, 1.0f, a, k, b, k, 0.0f, c, n);

    if (!s.bias && !s.residual && s.act == Activation::none) return {};
    const auto* bias = s.bias ? static_cast<const float*>(t[size_t(ix.bias)].data) : nullptr;
    const auto* res = s.residual ? static_cast<const float*>(t[size_t(ix.residual)].data) : nullptr;
    cpu::parallel_for(s.m, ctx.threads, [&](int64_t r0, int64_t r1) {
      for (int64_t i = r0; i < r1; ++i) {
        float* row = c + i * s.n;
        for (int64_t j = 0; j < s.n; ++j) {
          float v = row[j];
          if (bias) v += bias[j];
          v = activate(s.act, v);
          if (res) v += res[i * s.n + j];
          row[j] = v;
        }
      }
    });
    return {};
  }
};

}  // namespace

void register_openblas(Registry& r) { r.add_impl(std::make_unique<OpenBlasGemm>()); }

}  // namespace tessel::gemm

#else  // !TESSEL_HAVE_OPENBLAS

namespace tessel {
class Registry;
namespace gemm {
// Built without OpenBLAS: no baseline to register.
void register_openblas(Registry&) {}
}  // namespace gemm
}  // namespace tessel

#endif  // TESSEL_HAVE_OPENBLAS
