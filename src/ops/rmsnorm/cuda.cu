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
cudaError_t run_typed(const Shape& s, std::span<const TensorView> t, const fuse::cuda::Launch& stream) {
  using S = typename T::storage;
  const auto chain = fz::chain(fz::read<T>(t[kX].ptr<const S>(), s.cols), fz::rms_scale(float(s.eps)),
                               fz::mul(fz::read_bcast<T>(t[kWeight].ptr<const S>())), fz::write<T>(t[kY].ptr<S>(), s.cols));
  return fz::cuda::run(stream, chain, s.rows, s.cols);
}

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
    return launched(s.dtype == DType::bf16 ? run_typed<fz::bf16>(s, t, stream) : run_typed<fz::f32>(s, t, stream));
  }
};

}  // namespace

void register_cuda(Registry& r) { r.add_impl(std::make_unique<CudaFusedRmsNorm>()); }

}  // namespace tessel::rmsnorm
