// swiglu "cpu.fused": one fusion chain (include/tessel/fuse) that reads gate and up once and writes y
// (or q and its per-row scale) once.
//
//   read gate -> silu -> mul up -> write y                     (quant=none: one pass)
//   read gate -> silu -> mul up -> write_quant<e4m3|i8>(q, s)  (two passes: max |y|, then q)
//
// gate and up are the two halves of each row of x: reads with a row stride of 2 * cols.
#include "swiglu.hpp"
#include "../cpu_fused.hpp"
#include "chain.hpp"
#include "tessel/fuse/fuse.hpp"
#include "tessel/runtime/registry.hpp"

namespace tessel::swiglu {
namespace {

namespace fz = tessel::fuse;

class CpuFusedSwiglu final : public fused::CpuFusedImpl {
 public:
  CpuFusedSwiglu() : CpuFusedImpl("swiglu") {}

  Support supports(const Problem& p) const override {
    const Shape s = Shape::from(p);
    if (Support d = supports_dtype(s.dtype); !d.ok) return d;
    return Support::yes();
  }

 protected:
  Status run_chain(const Problem& p, std::span<const TensorView> t, const fz::cpu::Options& o) const override {
    const Shape s = Shape::from(p);
    if (t.size() != (s.quantized() ? 3u : 2u))
      return Status::invalid("swiglu", "tensors", s.quantized() ? "expected x, q and scale" : "expected x and y");
    with_chain(s, t, [&](const auto& chain) { fz::cpu::run(chain, s.rows, s.cols, o); });
    return {};
  }
};

}  // namespace

void register_cpu(Registry& r) { r.add_impl(std::make_unique<CpuFusedSwiglu>()); }

}  // namespace tessel::swiglu
