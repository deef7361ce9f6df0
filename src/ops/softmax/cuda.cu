// softmax "cuda.fused": the fusion chains of chain.hpp run as one CUDA kernel (include/tessel/fuse/cuda.hpp):
// rows up to 16384 columns held in registers (the two-reduction form, one exp per element), longer rows
// (checked up to 700001) one block per row, re-read for each pass (the online form).
#include "chain.hpp"
#include "fused_cuda.cuh"
#include "softmax.hpp"
#include "tessel/runtime/registry.hpp"

namespace tessel::softmax {
namespace {

namespace fz = tessel::fuse;

class CudaFusedSoftmax final : public fused_cuda::CudaFusedImpl {
 public:
  CudaFusedSoftmax() : CudaFusedImpl("softmax") {}

  Support supports(const Problem& p) const override {
    const Shape s = Shape::from(p);
    return supports_rows(s.dtype, s.rows, s.cols);
  }

 protected:
  Expected expected_tensors(const Problem&) const override { return {2, "x and y"}; }

  Status launch(const Problem& p, std::span<const TensorView> t, const fuse::cuda::Launch& stream) const override {
    const Shape s = Shape::from(p);
    return launched(with_chain(s, t, fz::cuda::kStashCols,
                               [&](const auto& chain) { return fz::cuda::run(stream, chain, s.rows, s.cols); }));
  }
};

}  // namespace

void register_cuda(Registry& r) { r.add_impl(std::make_unique<CudaFusedSoftmax>()); }

}  // namespace tessel::softmax
