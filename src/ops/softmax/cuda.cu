// softmax "cuda.fused": one fusion chain run as one CUDA kernel (include/tessel/fuse/cuda.hpp).
//
//   read x -> softmax (online max and rescaled sum, then exp(x - max) / sum) -> write y
//
// Rows up to 16384 columns stay in registers between the two passes; longer ones (checked up to
// 700001) take one block per row and re-read the row for the output pass.
#include "fused_cuda.cuh"
#include "softmax.hpp"
#include "tessel/runtime/registry.hpp"

namespace tessel::softmax {
namespace {

namespace fz = tessel::fuse;

template <class T>
cudaError_t run_typed(const Shape& s, std::span<const TensorView> t, const fuse::cuda::Launch& stream) {
  using S = typename T::storage;
  const auto chain =
      fz::chain(fz::read<T>(t[kX].ptr<const S>(), s.cols), fz::softmax(), fz::write<T>(t[kY].ptr<S>(), s.cols));
  return fz::cuda::run(stream, chain, s.rows, s.cols);
}

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
    return launched(s.dtype == DType::bf16 ? run_typed<fz::bf16>(s, t, stream) : run_typed<fz::f32>(s, t, stream));
  }
};

}  // namespace

void register_cuda(Registry& r) { r.add_impl(std::make_unique<CudaFusedSoftmax>()); }

}  // namespace tessel::softmax
