// rmsnorm_quant "cpu.fused": one fusion chain (include/tessel/fuse) that reads x once and writes the
// quantized q and the per-row scale once.
//
//   read x -> rms_scale(eps) -> mul weight -> write_quant<e4m3 | i8>(q, scale)
//
// Both rms_scale and the quantizing write reduce over the row (mean square, then max |y|), so a row
// takes three passes; the second and third re-read x from L1/L2, not from memory.
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
    with_chain(s, t, [&](const auto& chain) { fz::cpu::run(chain, s.rows, s.cols, o); });
    return {};
  }
};

}  // namespace

void register_cpu(Registry& r) { r.add_impl(std::make_unique<CpuFusedRmsNormQuant>()); }

}  // namespace tessel::rmsnorm_quant
