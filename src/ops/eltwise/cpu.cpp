// eltwise "cpu.fused": every chain of the vocabulary as one fusion chain (include/tessel/fuse), a
// single pass that reads each input once and writes y once.
#include "eltwise.hpp"
#include "../cpu_fused.hpp"
#include "chain.hpp"
#include "tessel/fuse/fuse.hpp"
#include "tessel/runtime/registry.hpp"

namespace tessel::eltwise {
namespace {

namespace fz = tessel::fuse;

class CpuFusedEltwise final : public fused::CpuFusedImpl {
 public:
  CpuFusedEltwise() : CpuFusedImpl("eltwise") {}

  Support supports(const Problem& p) const override {
    const Shape s = Shape::from(p);
    if (Support d = supports_dtype(s.dtype); !d.ok) return d;
    return Support::yes();
  }

 protected:
  Status run_chain(const Problem& p, std::span<const TensorView> t, const fz::cpu::Options& o) const override {
    const Shape s = Shape::from(p);
    if (t.size() != size_t(s.inputs()) + 1) return Status::invalid("eltwise", "tensors", "expected the chain's inputs and y");
    with_chain(s, t, [&](const auto& chain) { fz::cpu::run(chain, s.rows, s.cols, o); });
    return {};
  }
};

}  // namespace

void register_cpu(Registry& r) { r.add_impl(std::make_unique<CpuFusedEltwise>()); }

}  // namespace tessel::eltwise
