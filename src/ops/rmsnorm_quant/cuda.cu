// rmsnorm_quant "cuda.fused": one fusion chain run as one CUDA kernel (include/tessel/fuse/cuda.hpp).
//
//   read x -> rms_scale(eps) -> mul weight -> write_quant<e4m3 | i8>(q, scale)
//
// Two row reductions (mean square, then max |y|) over the row held in registers: x is read once,
// q and the per-row scale written once, so the quantization adds no memory traffic.
#include "fused_cuda.cuh"
#include "rmsnorm_quant.hpp"
#include "tessel/runtime/registry.hpp"

namespace tessel::rmsnorm_quant {
namespace {

namespace fz = tessel::fuse;

template <class T, class Q>
cudaError_t run_typed(const Shape& s, std::span<const TensorView> t, cudaStream_t stream) {
  using S = typename T::storage;
  const auto chain = fz::chain(fz::read<T>(t[kX].ptr<const S>(), s.cols), fz::rms_scale(float(s.eps)),
                               fz::mul(fz::read_bcast<T>(t[kWeight].ptr<const S>())),
                               fz::write_quant<Q>(t[kQ].ptr<typename Q::storage>(), s.cols, t[kScale].ptr<float>()));
  return fz::cuda::run(stream, chain, s.rows, s.cols);
}

template <class T>
cudaError_t run_quant(const Shape& s, std::span<const TensorView> t, cudaStream_t stream) {
  return s.quant == DType::e4m3 ? run_typed<T, fz::e4m3>(s, t, stream) : run_typed<T, fz::i8>(s, t, stream);
}

class CudaFusedRmsNormQuant final : public Implementation {
 public:
  std::string name() const override { return "cuda.fused"; }
  std::string op() const override { return "rmsnorm_quant"; }
  Device device() const override { return Device::cuda; }
  int priority() const override { return 20; }

  Support supports(const Problem& p) const override {
    const Shape s = Shape::from(p);
    if (s.dtype != DType::f32 && s.dtype != DType::bf16) return Support::no("cuda.fused: dtype=f32 or bf16 only");
    if (s.quant != DType::e4m3 && s.quant != DType::i8) return Support::no("cuda.fused: quant=e4m3 or i8 only");
    return fused_cuda::fits(s.rows, s.cols);
  }

  Status run(const Problem& p, const Config&, std::span<const TensorView> t, const RunContext& ctx) const override {
    if (Status st = fused_cuda::check_tensors("rmsnorm_quant", t, 4, "x, weight, q and scale"); !st.ok()) return st;
    const Shape s = Shape::from(p);
    if (Support sup = supports(p); !sup.ok) return Status::unsupported("rmsnorm_quant", name(), sup.reason);
    const auto stream = static_cast<cudaStream_t>(ctx.stream);
    return fused_cuda::launched("rmsnorm_quant", s.dtype == DType::bf16 ? run_quant<fz::bf16>(s, t, stream)
                                                                        : run_quant<fz::f32>(s, t, stream));
  }
};

}  // namespace

void register_cuda(Registry& r) { r.add_impl(std::make_unique<CudaFusedRmsNormQuant>()); }

}  // namespace tessel::rmsnorm_quant
