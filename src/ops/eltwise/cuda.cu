// eltwise "cuda.fused": each named chain as one CUDA kernel (include/tessel/fuse/cuda.hpp). No row
// reductions: long rows are cut into column tiles, so every shape fills the GPU.
#include "eltwise.hpp"
#include "fused_cuda.cuh"
#include "tessel/runtime/registry.hpp"

namespace tessel::eltwise {
namespace {

namespace fz = tessel::fuse;

template <class T>
cudaError_t run_typed(const Shape& s, std::span<const TensorView> t, cudaStream_t stream) {
  using S = typename T::storage;
  const int64_t n = s.cols;
  auto* y = t.back().ptr<S>();
  auto in = [&](size_t i) { return t[i].ptr<const S>(); };
  auto go = [&](const auto& chain) { return fz::cuda::run(stream, chain, s.rows, s.cols); };
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
      return go(fz::chain(fz::read<T>(in(0), n), fz::add(fz::read_bcast<T>(in(1))), fz::gelu_erf(), fz::write<T>(y, n)));
    case ChainId::dequant_i8:
      return go(fz::chain(fz::read_dequant<fz::i8>(t[0].ptr<const int8_t>(), n, t[1].ptr<const float>()),
                          fz::write<T>(y, n)));
    case ChainId::dequant_e4m3:
      return go(fz::chain(fz::read_dequant<fz::e4m3>(t[0].ptr<const uint8_t>(), n, t[1].ptr<const float>()),
                          fz::write<T>(y, n)));
  }
  return cudaErrorInvalidValue;
}

class CudaFusedEltwise final : public Implementation {
 public:
  std::string name() const override { return "cuda.fused"; }
  std::string op() const override { return "eltwise"; }
  Device device() const override { return Device::cuda; }
  int priority() const override { return 20; }

  Support supports(const Problem& p) const override {
    const Shape s = Shape::from(p);
    if (s.dtype != DType::f32 && s.dtype != DType::bf16) return Support::no("cuda.fused: dtype=f32 or bf16 only");
    return fused_cuda::fits(s.rows, s.cols);
  }

  Status run(const Problem& p, const Config&, std::span<const TensorView> t, const RunContext& ctx) const override {
    const Shape s = Shape::from(p);
    if (t.size() < 2 || t.size() > 3) return Status::invalid("eltwise", "tensors", "expected the chain's inputs and y");
    if (Status st = fused_cuda::check_tensors("eltwise", t, t.size(), "the chain's inputs and y"); !st.ok()) return st;
    if (Support sup = supports(p); !sup.ok) return Status::unsupported("eltwise", name(), sup.reason);
    const auto stream = static_cast<cudaStream_t>(ctx.stream);
    return fused_cuda::launched("eltwise", s.dtype == DType::bf16 ? run_typed<fz::bf16>(s, t, stream)
                                                                  : run_typed<fz::f32>(s, t, stream));
  }
};

}  // namespace

void register_cuda(Registry& r) { r.add_impl(std::make_unique<CudaFusedEltwise>()); }

}  // namespace tessel::eltwise
