// rope "cuda.fused": q and k rotated in ONE kernel launch (horizontal fusion: two fusion chains with
// different head counts, include/tessel/fuse/cuda.hpp). Each thread forms its column's angle in
// double from the token's position and the frequency table, reduces it modulo pi/2, and takes sine
// and cosine as float polynomials (include/tessel/fuse/rope.hpp: the CPU's code, so both backends
// agree to an ulp or two).
//
// The frequency table theta^(-2i/dim) lives in device memory, uploaded once per (theta, dim) and
// kept for the process (a few KiB), so a timed call launches the kernel and nothing else.
// Positions are not range-checked here, unlike cpu.fused: that would copy them back to the host on
// every call. Positions of 2^24 and more still rotate, with the angle exact to about 1e-9 relative.
#include <map>
#include <mutex>
#include <utility>
#include <vector>

#include "fused_cuda.cuh"
#include "rope.hpp"
#include "tessel/fuse/rope.hpp"
#include "tessel/runtime/registry.hpp"

namespace tessel::rope {
namespace {

namespace fz = tessel::fuse;

// Device copies of inv_freq(theta, dim), one per (theta, dim), never freed (kernels may run late).
Result<const double*> device_inv_freq(double theta, int dim) {
  static std::mutex mutex;
  static auto* tables = new std::map<std::pair<double, int>, const double*>;
  const std::lock_guard<std::mutex> lock(mutex);
  if (auto it = tables->find({theta, dim}); it != tables->end()) return it->second;
  const std::vector<double> f = inv_freq(theta, dim);
  double* d = nullptr;
  const size_t bytes = (f.empty() ? 1 : f.size()) * sizeof(double);
  if (cudaError_t e = cudaMalloc(&d, bytes); e != cudaSuccess)
    return Status::error(StatusCode::backend_error, "rope", "cuda.fused", std::string("cudaMalloc: ") + cudaGetErrorString(e));
  if (!f.empty())
    if (cudaError_t e = cudaMemcpy(d, f.data(), bytes, cudaMemcpyHostToDevice); e != cudaSuccess)
      return Status::error(StatusCode::backend_error, "rope", "cuda.fused", std::string("cudaMemcpy: ") + cudaGetErrorString(e));
  (*tables)[{theta, dim}] = d;
  return static_cast<const double*>(d);
}

template <class T, fz::RopeStyle kStyle>
cudaError_t run_typed(const Shape& s, std::span<const TensorView> t, const double* f, cudaStream_t stream) {
  using S = typename T::storage;
  const auto* pos = t[kPositions].ptr<const int32_t>();
  const auto cq = fz::chain(fz::read_rope<T, kStyle>(t[kQ].ptr<const S>(), s.heads_q, s.dim, pos, f),
                            fz::write<T>(t[kQOut].ptr<S>(), s.dim));
  const auto ck = fz::chain(fz::read_rope<T, kStyle>(t[kK].ptr<const S>(), s.heads_k, s.dim, pos, f),
                            fz::write<T>(t[kKOut].ptr<S>(), s.dim));
  return fz::cuda::run_many(stream, fz::cuda::instance(cq, s.tokens * s.heads_q, s.dim),
                            fz::cuda::instance(ck, s.tokens * s.heads_k, s.dim));
}

template <class T>
cudaError_t run_style(const Shape& s, std::span<const TensorView> t, const double* f, cudaStream_t stream) {
  return s.neox ? run_typed<T, fz::RopeStyle::neox>(s, t, f, stream) : run_typed<T, fz::RopeStyle::gptj>(s, t, f, stream);
}

class CudaFusedRope final : public fused_cuda::CudaFusedImpl {
 public:
  CudaFusedRope() : CudaFusedImpl("rope") {}

  Support supports(const Problem& p) const override {
    const Shape s = Shape::from(p);
    return supports_rows(s.dtype, s.tokens * (s.heads_q > s.heads_k ? s.heads_q : s.heads_k), s.dim);
  }

 protected:
  Expected expected_tensors(const Problem&) const override { return {5, "positions, q, k, q_out and k_out"}; }

  Status launch(const Problem& p, std::span<const TensorView> t, const fuse::cuda::Launch& stream) const override {
    const Shape s = Shape::from(p);
    Result<const double*> f = device_inv_freq(s.theta, s.dim);
    if (!f.ok()) return f.status();
    return launched(s.dtype == DType::bf16 ? run_style<fz::bf16>(s, t, *f, stream.stream) : run_style<fz::f32>(s, t, *f, stream.stream));
  }
};

}  // namespace

void register_cuda(Registry& r) { r.add_impl(std::make_unique<CudaFusedRope>()); }

}  // namespace tessel::rope
