// rmsnorm "cuda.fused": one fusion chain run as one CUDA kernel (include/tessel/fuse/cuda.hpp); the
// row stays in registers between the statistics pass and the output pass.
//
//   read x -> rms_scale(eps) -> mul weight -> write y
#include "chain.hpp"
#include "fused_cuda.cuh"
#include "tessel/runtime/registry.hpp"

namespace tessel::rmsnorm {
namespace {

class CudaFusedRmsNorm final : public fused_cuda::CudaFusedImpl {
 public:
  CudaFusedRmsNorm() : CudaFusedImpl("rmsnorm") {}

  Support supports(const Problem& p) const override {
    const Shape s = Shape::from(p);
    return supports_rows(s.dtype, s.rows, s.cols);
  }

 protected:
  Expected expected_tensors(const Problem&) const override { return {3, "x, weight and y"}; }

  Status launch(const Problem& p, std::span<const TensorView> t, const fuse::cuda::Launch& stream) const override {
    const Shape s = Shape::from(p);
    return launched(with_chain(s, t, [&](const auto& chain) { return fuse::cuda::run(stream, chain, s.rows, s.cols); }));
  }
};

}  // namespace

void register_cuda(Registry& r) { r.add_impl(std::make_unique<CudaFusedRmsNorm>()); }

}  // namespace tessel::rmsnorm
