// rmsnorm_quant "cpu.fused": one fusion chain (include/tessel/fuse) that reads x once and writes the
// quantized q and the per-row scale once.
//
//   read x -> mul weight -> write_quant_rms<e4m3 | i8>(q, scale, x, eps)
//
// The quantizing write reduces over the row once (the mean square of x and max |x * weight|
// together), so a row takes two passes; the second reads the row's stash from L1/L2, not memory.
#include "rmsnorm_quant.hpp"
#include "../cpu_fused.hpp"
#include "chain.hpp"
#include "tessel/fuse/fuse.hpp"
#include "tessel/runtime/registry.hpp"

namespace tessel::rmsnorm_quant {
namespace {

namespace fz = tessel::fuse;

class CpuFusedRmsNormQuant final : public fused::CpuFusedImpl {
 public:
  CpuFusedRmsNormQuant() : CpuFusedImpl("rmsnorm_quant") {}

  Support supports(const Problem& p) const override {
    const Shape s = Shape::from(p);
    if (Support d = supports_dtype(s.dtype); !d.ok) return d;
    if (s.quant != DType::e4m3 && s.quant != DType::i8)
      return Support::no("cpu.fused handles quant=e4m3 and quant=i8 only");
    return Support::yes();
  }

 protected:
  Status run_chain(const Problem& p, std::span<const TensorView> t, const fz::cpu::Options& o) const override {
    if (t.size() != 4) return Status::invalid("rmsnorm_quant", "tensors", "expected x, weight, q and scale");
    const Shape s = Shape::from(p);
    with_chain<true>(s, t, [&](const auto& chain) { fz::cpu::run(chain, s.rows, s.cols, o); });
    return {};
  }
};

}  // namespace

void register_cpu(Registry& r) { r.add_impl(std::make_unique<CpuFusedRmsNormQuant>()); }

}  // namespace tessel::rmsnorm_quant
