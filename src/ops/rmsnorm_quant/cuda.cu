// rmsnorm_quant "cuda.fused": one fusion chain run as one CUDA kernel (include/tessel/fuse/cuda.hpp).
//
//   bf16: read x -> mul weight -> write_quant_rms<e4m3 | i8>(q, scale, x, eps)
//   f32:  read x -> rms_scale(eps) -> mul weight -> write_quant<e4m3 | i8>(q, scale)   (chain.hpp says why)
//
// One row reduction (bf16: the mean square of x and max |x * weight| together; f32: two in
// sequence) over the row held in registers: x is read once, q and the per-row scale written once,
// so the quantization adds no memory traffic.
#include "chain.hpp"
#include "fused_cuda.cuh"
#include "tessel/runtime/registry.hpp"

namespace tessel::rmsnorm_quant {
namespace {

class CudaFusedRmsNormQuant final : public fused_cuda::CudaFusedImpl {
 public:
  CudaFusedRmsNormQuant() : CudaFusedImpl("rmsnorm_quant") {}

  Support supports(const Problem& p) const override {
    const Shape s = Shape::from(p);
    if (s.quant != DType::e4m3 && s.quant != DType::i8) return Support::no("cuda.fused: quant=e4m3 or i8 only");
    return supports_rows(s.dtype, s.rows, s.cols);
  }

 protected:
  Expected expected_tensors(const Problem&) const override { return {4, "x, weight, q and scale"}; }

  Status launch(const Problem& p, std::span<const TensorView> t, const fuse::cuda::Launch& stream) const override {
    const Shape s = Shape::from(p);
    return launched(
        with_chain<false>(s, t, [&](const auto& chain) { return fuse::cuda::run(stream, chain, s.rows, s.cols); }));
  }
};

}  // namespace

void register_cuda(Registry& r) { r.add_impl(std::make_unique<CudaFusedRmsNormQuant>()); }

}  // namespace tessel::rmsnorm_quant
