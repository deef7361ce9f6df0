// layernorm "cuda.fused": one fusion chain run as one CUDA kernel (include/tessel/fuse/cuda.hpp).
//
//   read x -> center (mean) -> rms_scale(eps) (variance of the centered row) -> mul weight -> add bias -> write y
//
// The exact two-pass variance costs no extra memory traffic: the row stays in registers for the
// three passes.
#include "chain.hpp"
#include "fused_cuda.cuh"
#include "tessel/runtime/registry.hpp"

namespace tessel::layernorm {
namespace {

class CudaFusedLayerNorm final : public fused_cuda::CudaFusedImpl {
 public:
  CudaFusedLayerNorm() : CudaFusedImpl("layernorm") {}

  Support supports(const Problem& p) const override {
    const Shape s = Shape::from(p);
    return supports_rows(s.dtype, s.rows, s.cols);
  }

 protected:
  Expected expected_tensors(const Problem&) const override { return {4, "x, weight, bias and y"}; }

  Status launch(const Problem& p, std::span<const TensorView> t, const fuse::cuda::Launch& stream) const override {
    const Shape s = Shape::from(p);
    return launched(
        with_chain(s, t, [&](const auto& chain) { return fuse::cuda::run(stream, chain, s.rows, s.cols); }));
  }
};

}  // namespace

void register_cuda(Registry& r) { r.add_impl(std::make_unique<CudaFusedLayerNorm>()); }

}  // namespace tessel::layernorm
