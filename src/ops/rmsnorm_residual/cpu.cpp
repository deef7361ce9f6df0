// rmsnorm_residual "cpu.fused": one fusion chain (include/tessel/fuse) that reads x and residual
// once, writes h and y once, and keeps everything between in registers.
//
//   read x -> add residual -> round to dtype -> write h -> rms_scale(eps) -> mul weight -> write y
//
// The rms_scale reduction makes it two passes over each row; the second re-reads x and residual
// from L1/L2, not from memory.
#include "rmsnorm_residual.hpp"
#include "../cpu_fused.hpp"
#include "chain.hpp"
#include "tessel/fuse/fuse.hpp"
#include "tessel/runtime/registry.hpp"

namespace tessel::rmsnorm_residual {
namespace {

namespace fz = tessel::fuse;

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
    with_chain(s, t, [&](const auto& chain) { fz::cpu::run(chain, s.rows, s.cols, o); });
    return {};
  }
};

}  // namespace

void register_cpu(Registry& r) { r.add_impl(std::make_unique<CpuFusedRmsNormResidual>()); }

}  // namespace tessel::rmsnorm_residual
