// swiglu "cuda.fused": one fusion chain run as one CUDA kernel (include/tessel/fuse/cuda.hpp).
//
//   read gate -> silu -> mul up -> write y                         (quant=none)
//   read gate -> silu -> mul up -> write_quant<e4m3 | i8>(q, scale) (quantized: max |y| per row first)
//
// x is [rows, 2 * cols] (gate | up). The quantized chain keeps the row in registers for its
// second pass, so it reads x once like the plain one and writes 1 byte per element instead of 2.
#include "fused_cuda.cuh"
#include "swiglu.hpp"
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
cudaError_t run_typed(const Shape& s, std::span<const TensorView> t, cudaStream_t stream) {
  if (!s.quantized())
    return fz::cuda::run(stream, fz::chain(gated<T>(s, t[kX]), fz::write<T>(t[kY].ptr<typename T::storage>(), s.cols)),
                         s.rows, s.cols);
  if (s.quant_dtype() == DType::e4m3)
    return fz::cuda::run(
        stream, fz::chain(gated<T>(s, t[kX]), fz::write_quant<fz::e4m3>(t[kQ].ptr<uint8_t>(), s.cols, t[kScale].ptr<float>())),
        s.rows, s.cols);
  return fz::cuda::run(
      stream, fz::chain(gated<T>(s, t[kX]), fz::write_quant<fz::i8>(t[kQ].ptr<int8_t>(), s.cols, t[kScale].ptr<float>())),
      s.rows, s.cols);
}

class CudaFusedSwiglu final : public Implementation {
 public:
  std::string name() const override { return "cuda.fused"; }
  std::string op() const override { return "swiglu"; }
  Device device() const override { return Device::cuda; }
  int priority() const override { return 20; }

  Support supports(const Problem& p) const override {
    const Shape s = Shape::from(p);
    if (s.dtype != DType::f32 && s.dtype != DType::bf16) return Support::no("cuda.fused: dtype=f32 or bf16 only");
    return fused_cuda::fits(s.rows, s.cols);
  }

  Status run(const Problem& p, const Config&, std::span<const TensorView> t, const RunContext& ctx) const override {
    const Shape s = Shape::from(p);
    if (Status st = fused_cuda::check_tensors("swiglu", t, s.quantized() ? 3 : 2,
                                              s.quantized() ? "x, q and scale" : "x and y");
        !st.ok())
      return st;
    if (Support sup = supports(p); !sup.ok) return Status::unsupported("swiglu", name(), sup.reason);
    const auto stream = static_cast<cudaStream_t>(ctx.stream);
    return fused_cuda::launched("swiglu", s.dtype == DType::bf16 ? run_typed<fz::bf16>(s, t, stream)
                                                                 : run_typed<fz::f32>(s, t, stream));
  }
};

}  // namespace

void register_cuda(Registry& r) { r.add_impl(std::make_unique<CudaFusedSwiglu>()); }

}  // namespace tessel::swiglu
