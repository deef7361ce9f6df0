// softmax "cuda.fused": one fusion chain run as one CUDA kernel (include/tessel/fuse/cuda.hpp).
//
//   rows up to 16384 columns, held in registers:
//     read x -> exp_minus_max (row max, then e^(x - max)) -> normalize_sum (row sum, then / sum) -> write y
//   longer rows (checked up to 700001), one block per row, re-read for each pass:
//     read x -> softmax (online max and rescaled sum, then exp(x - max) / sum) -> write y
//
// In registers the two-reduction form costs one exp per element; re-reading, the online form
// saves a pass over memory.
#include "fused_cuda.cuh"
#include "softmax.hpp"
#include "tessel/runtime/registry.hpp"

namespace tessel::softmax {
namespace {

namespace fz = tessel::fuse;

template <class T>
cudaError_t run_typed(const Shape& s, std::span<const TensorView> t, const fuse::cuda::Launch& stream) {
  using S = typename T::storage;
  const auto x = fz::read<T>(t[kX].ptr<const S>(), s.cols);
  const auto y = fz::write<T>(t[kY].ptr<S>(), s.cols);
  if (s.cols <= fz::cuda::kStashCols)
    return fz::cuda::run(stream, fz::chain(x, fz::exp_minus_max(), fz::normalize_sum(), y), s.rows, s.cols);
  return fz::cuda::run(stream, fz::chain(x, fz::softmax(), y), s.rows, s.cols);
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
