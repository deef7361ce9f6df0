// The rmsnorm_residual fusion chain, written once: cpu.cpp runs it with fuse::cpu, cuda.cu with fuse::cuda.
//
//   read x -> add residual -> round to T -> write h -> rms_scale(eps) -> mul weight -> write y
//
// h is rounded to the storage type before the statistics, so y is computed from the h that is stored.
#pragma once

#include <span>

#include "rmsnorm_residual.hpp"
#include "tessel/fuse/fuse.hpp"

namespace tessel::rmsnorm_residual {

// Calls run(chain) with the chain for these tensors in the problem's element type; returns its result.
template <class Run>
auto with_chain(const Shape& s, std::span<const TensorView> t, Run&& run) {
  namespace fz = tessel::fuse;
  auto build = [&]<class T>(T) {
    using S = typename T::storage;
    const int64_t n = s.cols;
    return run(fz::chain(fz::read<T>(t[kX].ptr<const S>(), n), fz::add(fz::read<T>(t[kResidual].ptr<const S>(), n)),
                         fz::cast<T>(), fz::write<T>(t[kH].ptr<S>(), n), fz::rms_scale(float(s.eps)),
                         fz::mul(fz::read_bcast<T>(t[kWeight].ptr<const S>())), fz::write<T>(t[kY].ptr<S>(), n)));
  };
  return s.dtype == DType::bf16 ? build(fz::bf16{}) : build(fz::f32{});
}

}  // namespace tessel::rmsnorm_residual
