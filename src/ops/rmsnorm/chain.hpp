// The rmsnorm fusion chain, written once: cpu_fused.cpp runs it with fuse::cpu, cuda.cu with fuse::cuda.
//
//   read x -> rms_scale(eps) -> mul weight -> write y
#pragma once

#include <span>

#include "rmsnorm.hpp"
#include "tessel/fuse/fuse.hpp"

namespace tessel::rmsnorm {

// Calls run(chain) with the chain for these tensors in the problem's element type; returns its result.
template <class Run>
auto with_chain(const Shape& s, std::span<const TensorView> t, Run&& run) {
  namespace fz = tessel::fuse;
  auto build = [&]<class T>(T) {
    using S = typename T::storage;
    return run(fz::chain(fz::read<T>(t[kX].ptr<const S>(), s.cols), fz::rms_scale(float(s.eps)),
                         fz::mul(fz::read_bcast<T>(t[kWeight].ptr<const S>())), fz::write<T>(t[kY].ptr<S>(), s.cols)));
  };
  return s.dtype == DType::bf16 ? build(fz::bf16{}) : build(fz::f32{});
}

}  // namespace tessel::rmsnorm
