// rmsnorm_residual "cuda.fused": one fusion chain run as one CUDA kernel (include/tessel/fuse/cuda.hpp).
//
//   read x -> add residual -> cast -> write h -> rms_scale(eps) -> mul weight -> write y
//
// h is written in the statistics pass, from the registers that then feed the output pass: x and
// the residual are read once, h and y written once.
#include "chain.hpp"
#include "fused_cuda.cuh"
#include "tessel/runtime/registry.hpp"

namespace tessel::rmsnorm_residual {
namespace {

class CudaFusedRmsNormResidual final : public fused_cuda::CudaFusedImpl {
 public:
  CudaFusedRmsNormResidual() : CudaFusedImpl("rmsnorm_residual") {}

  Support supports(const Problem& p) const override {
    const Shape s = Shape::from(p);
    return supports_rows(s.dtype, s.rows, s.cols);
  }

 protected:
  Expected expected_tensors(const Problem&) const override { return {5, "x, residual, weight, h and y"}; }
  // Two input streams held in registers: 4 slots spill and measured 10% slower (H200, bf16).
  int default_slots(const Problem&) const override { return 2; }

  Status launch(const Problem& p, std::span<const TensorView> t, const fuse::cuda::Launch& stream) const override {
    const Shape s = Shape::from(p);
    return launched(
        with_chain(s, t, [&](const auto& chain) { return fuse::cuda::run(stream, chain, s.rows, s.cols); }));
  }
};

}  // namespace

void register_cuda(Registry& r) { r.add_impl(std::make_unique<CudaFusedRmsNormResidual>()); }

}  // namespace tessel::rmsnorm_residual
