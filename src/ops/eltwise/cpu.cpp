// eltwise "cpu.fused": every chain of the vocabulary as one fusion chain (include/tessel/fuse), a
// single pass that reads each input once and writes y once.
#include "eltwise.hpp"
#include "../cpu_fused.hpp"
#include "tessel/fuse/fuse.hpp"
#include "tessel/runtime/registry.hpp"

namespace tessel::eltwise {
namespace {

namespace fz = tessel::fuse;

template <class T>
void run_typed(const Shape& s, std::span<const TensorView> t, const fz::cpu::Options& o) {
  using S = typename T::storage;
  const int64_t n = s.cols;
  auto* y = t.back().ptr<S>();
  auto in = [&](size_t i) { return t[i].ptr<const S>(); };
  auto go = [&](const auto& chain) { fz::cpu::run(chain, s.rows, s.cols, o); };
  switch (s.chain) {
    case ChainId::silu:
      return go(fz::chain(fz::read<T>(in(0), n), fz::silu(), fz::write<T>(y, n)));
    case ChainId::gelu_tanh:
      return go(fz::chain(fz::read<T>(in(0), n), fz::gelu_tanh(), fz::write<T>(y, n)));
    case ChainId::gelu_erf:
      return go(fz::chain(fz::read<T>(in(0), n), fz::gelu_erf(), fz::write<T>(y, n)));
    case ChainId::relu:
      return go(fz::chain(fz::read<T>(in(0), n), fz::relu(), fz::write<T>(y, n)));
    case ChainId::silu_mul:
      return go(fz::chain(fz::read<T>(in(0), n), fz::silu(), fz::mul(fz::read<T>(in(1), n)), fz::write<T>(y, n)));
    case ChainId::gelu_mul:
      return go(fz::chain(fz::read<T>(in(0), n), fz::gelu_tanh(), fz::mul(fz::read<T>(in(1), n)), fz::write<T>(y, n)));
    case ChainId::bias_gelu:
      return go(
          fz::chain(fz::read<T>(in(0), n), fz::add(fz::read_bcast<T>(in(1))), fz::gelu_erf(), fz::write<T>(y, n)));
    case ChainId::dequant_i8:
      return go(fz::chain(fz::read_dequant<fz::i8>(t[0].ptr<const int8_t>(), n, t[1].ptr<const float>()),
                          fz::write<T>(y, n)));
    case ChainId::dequant_e4m3:
      return go(fz::chain(fz::read_dequant<fz::e4m3>(t[0].ptr<const uint8_t>(), n, t[1].ptr<const float>()),
                          fz::write<T>(y, n)));
  }
}

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
    if (t.size() < 2 || t.size() > 3) return Status::invalid("eltwise", "tensors", "expected the chain's inputs and y");
    if (s.dtype == DType::bf16)
      run_typed<fz::bf16>(s, t, o);
    else
      run_typed<fz::f32>(s, t, o);
    return {};
  }
};

}  // namespace

void register_cpu(Registry& r) { r.add_impl(std::make_unique<CpuFusedEltwise>()); }

}  // namespace tessel::eltwise
