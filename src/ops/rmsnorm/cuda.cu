// rmsnorm "cuda.fused": one fusion chain run as one CUDA kernel (include/tessel/fuse/cuda.hpp); the
// row stays in registers between the statistics pass and the output pass.
//
//   read x -> rms_scale(eps) -> mul weight -> write y
#include "fused_cuda.cuh"
#include "rmsnorm.hpp"
#include "tessel/runtime/registry.hpp"

namespace tessel::rmsnorm {
namespace {

namespace fz = tessel::fuse;

template <class T>
cudaError_t run_typed(const Shape& s, std::span<const TensorView> t, cudaStream_t stream) {
  using S = typename T::storage;
  const auto chain = fz::chain(fz::read<T>(t[kX].ptr<const S>(), s.cols), fz::rms_scale(float(s.eps)),
                               fz::mul(fz::read_bcast<T>(t[kWeight].ptr<const S>())), fz::write<T>(t[kY].ptr<S>(), s.cols));
  return fz::cuda::run(stream, chain, s.rows, s.cols);
}

class CudaFusedRmsNorm final : public Implementation {
 public:
  std::string name() const override { return "cuda.fused"; }
  std::string op() const override { return "rmsnorm"; }
  Device device() const override { return Device::cuda; }
  int priority() const override { return 20; }

  Support supports(const Problem& p) const override {
    const Shape s = Shape::from(p);
    if (s.dtype != DType::f32 && s.dtype != DType::bf16) return Support::no("cuda.fused: dtype=f32 or bf16 only");
    return fused_cuda::fits(s.rows, s.cols);
  }

  Status run(const Problem& p, const Config&, std::span<const TensorView> t, const RunContext& ctx) const override {
    if (Status st = fused_cuda::check_tensors("rmsnorm", t, 3, "x, weight and y"); !st.ok()) return st;
    const Shape s = Shape::from(p);
    if (Support sup = supports(p); !sup.ok) return Status::unsupported("rmsnorm", name(), sup.reason);
    const auto stream = static_cast<cudaStream_t>(ctx.stream);
    return fused_cuda::launched("rmsnorm", s.dtype == DType::bf16 ? run_typed<fz::bf16>(s, t, stream)
                                                                  : run_typed<fz::f32>(s, t, stream));
  }
};

}  // namespace

void register_cuda(Registry& r) { r.add_impl(std::make_unique<CudaFusedRmsNorm>()); }

}  // namespace tessel::rmsnorm
