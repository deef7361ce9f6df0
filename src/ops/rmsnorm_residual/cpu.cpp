// rmsnorm_residual "cpu.fused": one fusion chain (include/tessel/fuse) that reads x and residual
// once, writes h and y once, and keeps everything between in registers.
//
//   read x -> add residual -> round to dtype -> write h -> rms_scale(eps) -> mul weight -> write y
//
// The rms_scale reduction makes it two passes over each row; the second re-reads x and residual
// from L1/L2, not from memory.
#include "rmsnorm_residual.hpp"
#include "../cpu_fused.hpp"
#include "tessel/fuse/fuse.hpp"
#include "tessel/runtime/registry.hpp"

namespace tessel::rmsnorm_residual {
namespace {

namespace fz = tessel::fuse;

template <class T>
void run_typed(const Shape& s, std::span<const TensorView> t, const fz::cpu::Options& o) {
  using S = typename T::storage;
  const auto* x = t[kX].ptr<const S>();
  const auto* res = t[kResidual].ptr<const S>();
  const auto* w = t[kWeight].ptr<const S>();
  auto* h = t[kH].ptr<S>();
  auto* y = t[kY].ptr<S>();
  const int64_t n = s.cols;
  const auto chain = fz::chain(fz::read<T>(x, n), fz::add(fz::read<T>(res, n)), fz::cast<T>(), fz::write<T>(h, n),
                               fz::rms_scale(float(s.eps)), fz::mul(fz::read_bcast<T>(w)), fz::write<T>(y, n));
  fz::cpu::run(chain, s.rows, s.cols, o);
}

class CpuFusedRmsNormResidual final : public fused::CpuFusedImpl {
 public:
  CpuFusedRmsNormResidual() : CpuFusedImpl("rmsnorm_residual") {}

  Support supports(const Problem& p) const override {
    const Shape s = Shape::from(p);
    if (Support d = supports_dtype(s.dtype); !d.ok) return d;
    return Support::yes();
  }

 protected:
  Status run_chain(const Problem& p, std::span<const TensorView> t, const fz::cpu::Options& o) const override {
    if (t.size() != 5) return Status::invalid("rmsnorm_residual", "tensors", "expected x, residual, weight, h and y");
    const Shape s = Shape::from(p);
    if (s.dtype == DType::bf16)
      run_typed<fz::bf16>(s, t, o);
    else
      run_typed<fz::f32>(s, t, o);
    return {};
  }
};

}  // namespace

void register_cpu(Registry& r) { r.add_impl(std::make_unique<CpuFusedRmsNormResidual>()); }

}  // namespace tessel::rmsnorm_residual
