// rmsnorm "cpu.fused": the fusion chain cuda.fused runs, on the CPU runner (include/tessel/fuse/cpu.hpp):
//
//   read x -> rms_scale(eps) -> mul weight -> write y
//
// Rows up to 64K columns take two passes, the second from the runner's per-thread f32 copy of the
// row (the stash): x is read from memory once and decoded once.
#include "../cpu_fused.hpp"
#include "chain.hpp"
#include "tessel/runtime/registry.hpp"

namespace tessel::rmsnorm {
namespace {

namespace fz = tessel::fuse;

class CpuFusedRmsNorm final : public fused::CpuFusedImpl {
 public:
  CpuFusedRmsNorm() : CpuFusedImpl("rmsnorm") {}

  Support supports(const Problem& p) const override { return supports_dtype(Shape::from(p).dtype); }

 protected:
  Status run_chain(const Problem& p, std::span<const TensorView> t, const fz::cpu::Options& o) const override {
    if (t.size() != 3) return Status::invalid("rmsnorm", "tensors", "expected x, weight and y");
    const Shape s = Shape::from(p);
    with_chain(s, t, [&](const auto& chain) { fz::cpu::run(chain, s.rows, s.cols, o); });
    return {};
  }
};

}  // namespace

void register_cpu_fused(Registry& r) { r.add_impl(std::make_unique<CpuFusedRmsNorm>()); }

}  // namespace tessel::rmsnorm
