// The rmsnorm_quant fusion chain, written once: cpu.cpp runs it with fuse::cpu, cuda.cu with fuse::cuda.
//
//   read x -> mul weight -> write_quant_rms q (e4m3 or i8) and one scale per row, with x and eps
//
// write_quant_rms (include/tessel/fuse/ops.hpp) quantizes v = x * weight and folds 1 / rms(x) into
// the scale alone: the codes of a row do not change under a positive factor. One row reduction
// (sum of x^2 and max |v| together) instead of two in sequence:
//
//   read x -> rms_scale(eps) -> mul weight -> write_quant q and scale
//
// which the CUDA runner keeps for f32 x (kFoldF32 false): there the folded op holds x's 32 floats a
// thread next to v's until its sum of squares, and spilled (0.80x the two-reduction chain on the
// H200, session12/call1; bf16 x stays packed in 16 registers and gains 1.01-1.08x).
#pragma once

#include <span>
#include <type_traits>

#include "rmsnorm_quant.hpp"
#include "tessel/fuse/fuse.hpp"

namespace tessel::rmsnorm_quant {

// Calls run(chain) with the chain for these tensors in the problem's element and quantized types;
// returns its result.
template <bool kFoldF32, class Run>
auto with_chain(const Shape& s, std::span<const TensorView> t, Run&& run) {
  namespace fz = tessel::fuse;
  auto build = [&]<class T, class Q>(T, Q) {
    using S = typename T::storage;
    const auto x = fz::read<T>(t[kX].ptr<const S>(), s.cols);
    const auto weight = fz::mul(fz::read_bcast<T>(t[kWeight].ptr<const S>()));
    auto* q = t[kQ].ptr<typename Q::storage>();
    float* scale = t[kScale].ptr<float>();
    if constexpr (std::is_same_v<T, fz::f32> && !kFoldF32)
      return run(fz::chain(x, fz::rms_scale(float(s.eps)), weight, fz::write_quant<Q>(q, s.cols, scale)));
    else
      return run(fz::chain(x, weight, fz::write_quant_rms<Q>(q, s.cols, scale, x, float(s.eps))));
  };
  auto quant = [&](auto in) { return s.quant == DType::e4m3 ? build(in, fz::e4m3{}) : build(in, fz::i8{}); };
  return s.dtype == DType::bf16 ? quant(fz::bf16{}) : quant(fz::f32{});
}

}  // namespace tessel::rmsnorm_quant
