// The swiglu fusion chain, written once: cpu.cpp runs it with fuse::cpu, cuda.cu with fuse::cuda.
//
//   read gate -> silu -> mul up -> write y                      (quant=none)
//   read gate -> silu -> mul up -> write_quant q and a scale    (quant=e4m3|i8)
//
// x holds [gate | up] per row, 2 * cols wide: both halves are strided reads of the same rows.
#pragma once

#include <span>

#include "swiglu.hpp"
#include "tessel/fuse/fuse.hpp"

namespace tessel::swiglu {

// Calls run(chain) with the chain for these tensors in the problem's types; returns its result.
template <class Run>
auto with_chain(const Shape& s, std::span<const TensorView> t, Run&& run) {
  namespace fz = tessel::fuse;
  auto build = [&]<class T>(T) {
    const auto* gate = t[kX].ptr<const typename T::storage>();
    const auto gated =
        fz::chain(fz::read<T>(gate, 2 * s.cols), fz::silu(), fz::mul(fz::read<T>(gate + s.cols, 2 * s.cols)));
    if (!s.quantized()) return run(fz::chain(gated, fz::write<T>(t[kY].ptr<typename T::storage>(), s.cols)));
    if (s.quant_dtype() == DType::e4m3)
      return run(fz::chain(gated, fz::write_quant<fz::e4m3>(t[kQ].ptr<uint8_t>(), s.cols, t[kScale].ptr<float>())));
    return run(fz::chain(gated, fz::write_quant<fz::i8>(t[kQ].ptr<int8_t>(), s.cols, t[kScale].ptr<float>())));
  };
  return s.dtype == DType::bf16 ? build(fz::bf16{}) : build(fz::f32{});
}

}  // namespace tessel::swiglu
