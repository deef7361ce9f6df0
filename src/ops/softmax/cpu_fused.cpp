// softmax "cpu.fused": the fusion chains cuda.fused runs (chain.hpp), on the CPU runner
// (include/tessel/fuse/cpu.hpp), beside the hand-written cpu.simd: rows up to kStashCols take the
// two-reduction form from the per-thread f32 copy of the row (the stash), longer rows the online form.
#include "../cpu_fused.hpp"
#include "chain.hpp"
#include "tessel/runtime/registry.hpp"

namespace tessel::softmax {
namespace {

namespace fz = tessel::fuse;

// The stash up to 262144 columns (1 MiB of f32, an L2 on recent cores), past the runner's default:
// without it a row costs an exp per element more (the online form), and with it softmax ran 1.12-1.5x
// (f32) and 2.1-2.3x (bf16) faster at 100000-262144 columns (session 29,
// bench/results/cpu/fuse-stash-256k-2026-12-01-session29.txt); cheap chains lose there (rmsnorm on
// bf16 rows of 100000-200000 columns 0.7-0.85x: the f32 stash is twice the row it replaces).
constexpr int64_t kStashCols = 262144;

class CpuFusedSoftmax final : public fused::CpuFusedImpl {
 public:
  CpuFusedSoftmax() : CpuFusedImpl("softmax") {}

  Support supports(const Problem& p) const override { return supports_dtype(Shape::from(p).dtype); }

 protected:
  Status run_chain(const Problem& p, std::span<const TensorView> t, const fz::cpu::Options& o) const override {
    if (t.size() != 2) return Status::invalid("softmax", "tensors", "expected x and y");
    const Shape s = Shape::from(p);
    fz::cpu::Options with_stash = o;
    with_stash.stash_cols = kStashCols;
    with_chain(s, t, kStashCols, [&](const auto& chain) { fz::cpu::run(chain, s.rows, s.cols, with_stash); });
    return {};
  }
};

}  // namespace

void register_cpu_fused(Registry& r) { r.add_impl(std::make_unique<CpuFusedSoftmax>()); }

}  // namespace tessel::softmax
