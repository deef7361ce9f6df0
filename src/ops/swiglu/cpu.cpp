// swiglu "cpu.fused": one fusion chain (include/tessel/fuse) that reads gate and up once and writes y
// (or q and its per-row scale) once.
//
//   read gate -> silu -> mul up -> write y                     (quant=none: one pass)
//   read gate -> silu -> mul up -> write_quant<e4m3|i8>(q, s)  (two passes: max |y|, then q)
//
// gate and up are the two halves of each row of x: reads with a row stride of 2 * cols.
#include "swiglu.hpp"
#include "../cpu_fused.hpp"
#include "tessel/fuse/fuse.hpp"
#include "tessel/runtime/registry.hpp"

namespace tessel::swiglu {
namespace {

namespace fz = tessel::fuse;

template <class T>
auto gated(const Shape& s, const TensorView& x) {
  const auto* gate = x.ptr<const typename T::storage>();
  return fz::chain(fz::read<T>(gate, 2 * s.cols), fz::silu(), fz::mul(fz::read<T>(gate + s.cols, 2 * s.cols)));
}

template <class T>
void run_typed(const Shape& s, std::span<const TensorView> t, const fz::cpu::Options& o) {
  if (!s.quantized()) {
    fz::cpu::run(fz::chain(gated<T>(s, t[kX]), fz::write<T>(t[kY].ptr<typename T::storage>(), s.cols)), s.rows, s.cols,
                 o);
  } else if (s.quant_dtype() == DType::e4m3) {
    fz::cpu::run(
        fz::chain(gated<T>(s, t[kX]), fz::write_quant<fz::e4m3>(t[kQ].ptr<uint8_t>(), s.cols, t[kScale].ptr<float>())),
        s.rows, s.cols, o);
  } else {
    fz::cpu::run(
        fz::chain(gated<T>(s, t[kX]), fz::write_quant<fz::i8>(t[kQ].ptr<int8_t>(), s.cols, t[kScale].ptr<float>())),
        s.rows, s.cols, o);
  }
}

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
    if (s.dtype == DType::bf16)
      run_typed<fz::bf16>(s, t, o);
    else
      run_typed<fz::f32>(s, t, o);
    return {};
  }
};

}  // namespace

void register_cpu(Registry& r) { r.add_impl(std::make_unique<CpuFusedSwiglu>()); }

}  // namespace tessel::swiglu
