// swiglu "cuda.fused": one fusion chain run as one CUDA kernel (include/tessel/fuse/cuda.hpp).
//
//   read gate -> silu -> mul up -> write y                         (quant=none)
//   read gate -> silu -> mul up -> write_quant<e4m3 | i8>(q, scale) (quantized: max |y| per row first)
//
// x is [rows, 2 * cols] (gate | up). The quantized chain keeps the row in registers for its
// second pass, so it reads x once like the plain one and writes 1 byte per element instead of 2.
#include "chain.hpp"
#include "fused_cuda.cuh"
#include "tessel/runtime/registry.hpp"

namespace tessel::swiglu {
namespace {

class CudaFusedSwiglu final : public fused_cuda::CudaFusedImpl {
 public:
  CudaFusedSwiglu() : CudaFusedImpl("swiglu") {}

  Support supports(const Problem& p) const override {
    const Shape s = Shape::from(p);
    return supports_rows(s.dtype, s.rows, s.cols);
  }

 protected:
  Expected expected_tensors(const Problem& p) const override { return Shape::from(p).quantized() ? Expected{3, "x, q and scale"} : Expected{2, "x and y"}; }

  Status launch(const Problem& p, std::span<const TensorView> t, const fuse::cuda::Launch& stream) const override {
    const Shape s = Shape::from(p);
    return launched(
        with_chain(s, t, [&](const auto& chain) { return fuse::cuda::run(stream, chain, s.rows, s.cols); }));
  }
};

}  // namespace

void register_cuda(Registry& r) { r.add_impl(std::make_unique<CudaFusedSwiglu>()); }

}  // namespace tessel::swiglu
