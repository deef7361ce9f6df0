// The rmsnorm_quant fusion chain, written once: cpu.cpp runs it with fuse::cpu, cuda.cu with fuse::cuda.
//
//   read x -> rms_scale(eps) -> mul weight -> write_quant q (e4m3 or i8) and one scale per row
#pragma once

#include <span>

#include "rmsnorm_quant.hpp"
#include "tessel/fuse/fuse.hpp"

namespace tessel::rmsnorm_quant {

// Calls run(chain) with the chain for these tensors in the problem's element and quantized types;
// returns its result.
template <class Run>
auto with_chain(const Shape& s, std::span<const TensorView> t, Run&& run) {
  namespace fz = tessel::fuse;
  auto build = [&]<class T, class Q>(T, Q) {
    using S = typename T::storage;
    return run(fz::chain(fz::read<T>(t[kX].ptr<const S>(), s.cols), fz::rms_scale(float(s.eps)),
                         fz::mul(fz::read_bcast<T>(t[kWeight].ptr<const S>())),
                         fz::write_quant<Q>(t[kQ].ptr<typename Q::storage>(), s.cols, t[kScale].ptr<float>())));
  };
  auto quant = [&](auto in) { return s.quant == DType::e4m3 ? build(in, fz::e4m3{}) : build(in, fz::i8{}); };
  return s.dtype == DType::bf16 ? quant(fz::bf16{}) : quant(fz::f32{});
}

}  // namespace tessel::rmsnorm_quant
