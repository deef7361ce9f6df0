// eltwise "cuda.fused": each named chain as one CUDA kernel (include/tessel/fuse/cuda.hpp). No row
// reductions: long rows are cut into column tiles, so every shape fills the GPU.
#include "chain.hpp"
#include "fused_cuda.cuh"
#include "tessel/runtime/registry.hpp"

namespace tessel::eltwise {
namespace {

class CudaFusedEltwise final : public fused_cuda::CudaFusedImpl {
 public:
  CudaFusedEltwise() : CudaFusedImpl("eltwise") {}

  Support supports(const Problem& p) const override {
    const Shape s = Shape::from(p);
    return supports_rows(s.dtype, s.rows, s.cols);
  }

 protected:
  Expected expected_tensors(const Problem& p) const override { return {size_t(Shape::from(p).inputs()) + 1, "the chain's inputs and y"}; }

  Status launch(const Problem& p, std::span<const TensorView> t, const fuse::cuda::Launch& stream) const override {
    const Shape s = Shape::from(p);
    return launched(
        with_chain(s, t, [&](const auto& chain) { return fuse::cuda::run(stream, chain, s.rows, s.cols); }));
  }
};

}  // namespace

void register_cuda(Registry& r) { r.add_impl(std::make_unique<CudaFusedEltwise>()); }

}  // namespace tessel::eltwise
