// layernorm "cuda.fused": one fusion chain run as one CUDA kernel (include/tessel/fuse/cuda.hpp).
//
//   read x -> center (mean) -> rms_scale(eps) (variance of the centered row) -> mul weight -> add bias -> write y
//
// The exact two-pass variance costs no extra memory traffic: the row stays in registers for the
// three passes.
#include "fused_cuda.cuh"
#include "layernorm.hpp"
#include "tessel/runtime/registry.hpp"

namespace tessel::layernorm {
namespace {

namespace fz = tessel::fuse;

template <class T>
cudaError_t run_typed(const Shape& s, std::span<const TensorView> t, cudaStream_t stream) {
  using S = typename T::storage;
  const auto chain =
      fz::chain(fz::read<T>(t[kX].ptr<const S>(), s.cols), fz::center(), fz::rms_scale(float(s.eps)),
                fz::mul(fz::read_bcast<T>(t[kWeight].ptr<const S>())),
                fz::add(fz::read_bcast<T>(t[kBias].ptr<const S>())), fz::write<T>(t[kY].ptr<S>(), s.cols));
  return fz::cuda::run(stream, chain, s.rows, s.cols);
}

class CudaFusedLayerNorm final : public Implementation {
 public:
  std::string name() const override { return "cuda.fused"; }
  std::string op() const override { return "layernorm"; }
  Device device() const override { return Device::cuda; }
  int priority() const override { return 20; }

  Support supports(const Problem& p) const override {
    const Shape s = Shape::from(p);
    if (s.dtype != DType::f32 && s.dtype != DType::bf16) return Support::no("cuda.fused: dtype=f32 or bf16 only");
    return fused_cuda::fits(s.rows, s.cols);
  }

  Status run(const Problem& p, const Config&, std::span<const TensorView> t, const RunContext& ctx) const override {
    if (Status st = fused_cuda::check_tensors("layernorm", t, 4, "x, weight, bias and y"); !st.ok()) return st;
    const Shape s = Shape::from(p);
    if (Support sup = supports(p); !sup.ok) return Status::unsupported("layernorm", name(), sup.reason);
    const auto stream = static_cast<cudaStream_t>(ctx.stream);
    return fused_cuda::launched("layernorm", s.dtype == DType::bf16 ? run_typed<fz::bf16>(s, t, stream)
                                                                    : run_typed<fz::f32>(s, t, stream));
  }
};

}  // namespace

void register_cuda(Registry& r) { r.add_impl(std::make_unique<CudaFusedLayerNorm>()); }

}  // namespace tessel::layernorm
