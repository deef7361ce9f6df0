// softmax "cpu.fused": the fusion chains cuda.fused runs (chain.hpp), on the CPU runner
// (include/tessel/fuse/cpu.hpp), beside the hand-written cpu.simd: rows up to the runner's stash take
// the two-reduction form from the per-thread f32 copy of the row, longer rows the online form.
#include "../cpu_fused.hpp"
#include "chain.hpp"
#include "tessel/runtime/registry.hpp"

namespace tessel::softmax {
namespace {

namespace fz = tessel::fuse;

class CpuFusedSoftmax final : public fused::CpuFusedImpl {
 public:
  CpuFusedSoftmax() : CpuFusedImpl("softmax") {}

  Support supports(const Problem& p) const override { return supports_dtype(Shape::from(p).dtype); }

 protected:
  Status run_chain(const Problem& p, std::span<const TensorView> t, const fz::cpu::Options& o) const override {
    if (t.size() != 2) return Status::invalid("softmax", "tensors", "expected x and y");
    const Shape s = Shape::from(p);
    with_chain(s, t, fz::cpu::detail::kStashCols, [&](const auto& chain) { fz::cpu::run(chain, s.rows, s.cols, o); });
    return {};
  }
};

}  // namespace

void register_cpu_fused(Registry& r) { r.add_impl(std::make_unique<CpuFusedSoftmax>()); }

}  // namespace tessel::softmax
