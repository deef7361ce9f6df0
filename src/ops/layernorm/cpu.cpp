// layernorm "cpu.fused": one fusion chain (include/tessel/fuse) that reads x once and writes y once.
//
//   read x -> center -> rms_scale(eps) -> mul weight -> add bias -> write y
//
// center (the mean) and rms_scale (the variance of the centered values) are row reductions, so a
// row takes three passes: the exact two-pass variance, with the second and third reading x from
// L1/L2, not from memory.
#include "layernorm.hpp"
#include "../cpu_fused.hpp"
#include "chain.hpp"
#include "tessel/fuse/fuse.hpp"
#include "tessel/runtime/registry.hpp"

namespace tessel::layernorm {
namespace {

namespace fz = tessel::fuse;

class CpuFusedLayerNorm final : public fused::CpuFusedImpl {
 public:
  CpuFusedLayerNorm() : CpuFusedImpl("layernorm") {}

  Support supports(const Problem& p) const override {
    const Shape s = Shape::from(p);
    if (Support d = supports_dtype(s.dtype); !d.ok) return d;
    return Support::yes();
  }

 protected:
  Status run_chain(const Problem& p, std::span<const TensorView> t, const fz::cpu::Options& o) const override {
    if (t.size() != 4) return Status::invalid("layernorm", "tensors", "expected x, weight, bias and y");
    const Shape s = Shape::from(p);
    with_chain(s, t, [&](const auto& chain) { fz::cpu::run(chain, s.rows, s.cols, o); });
    return {};
  }
};

}  // namespace

void register_cpu(Registry& r) { r.add_impl(std::make_unique<CpuFusedLayerNorm>()); }

}  // namespace tessel::layernorm
