// The eltwise fusion chains, written once: cpu.cpp runs them with fuse::cpu, cuda.cu with fuse::cuda.
// One chain per name of the vocabulary (eltwise.hpp); each is a single pass that reads each input once
// and writes y once.
#pragma once

#include <span>

#include "eltwise.hpp"
#include "tessel/fuse/fuse.hpp"

namespace tessel::eltwise {

// Calls run(chain) with the named chain for these tensors in the problem's element type; returns its
// result. Tensors: the chain's inputs, then y.
template <class Run>
auto with_chain(const Shape& s, std::span<const TensorView> t, Run&& run) {
  namespace fz = tessel::fuse;
  auto build = [&]<class T>(T) {
    using S = typename T::storage;
    const int64_t n = s.cols;
    auto* y = t.back().ptr<S>();
    auto in = [&](size_t i) { return t[i].ptr<const S>(); };
    switch (s.chain) {
      case ChainId::silu:
        return run(fz::chain(fz::read<T>(in(0), n), fz::silu(), fz::write<T>(y, n)));
      case ChainId::gelu_tanh:
        return run(fz::chain(fz::read<T>(in(0), n), fz::gelu_tanh(), fz::write<T>(y, n)));
      case ChainId::gelu_erf:
        return run(fz::chain(fz::read<T>(in(0), n), fz::gelu_erf(), fz::write<T>(y, n)));
      case ChainId::relu:
        return run(fz::chain(fz::read<T>(in(0), n), fz::relu(), fz::write<T>(y, n)));
      case ChainId::silu_mul:
        return run(fz::chain(fz::read<T>(in(0), n), fz::silu(), fz::mul(fz::read<T>(in(1), n)), fz::write<T>(y, n)));
      case ChainId::gelu_mul:
        return run(
            fz::chain(fz::read<T>(in(0), n), fz::gelu_tanh(), fz::mul(fz::read<T>(in(1), n)), fz::write<T>(y, n)));
      case ChainId::bias_gelu:
        return run(
            fz::chain(fz::read<T>(in(0), n), fz::add(fz::read_bcast<T>(in(1))), fz::gelu_erf(), fz::write<T>(y, n)));
      case ChainId::dequant_i8:
        return run(fz::chain(fz::read_dequant<fz::i8>(t[0].ptr<const int8_t>(), n, t[1].ptr<const float>()),
                             fz::write<T>(y, n)));
      case ChainId::dequant_e4m3:
        return run(fz::chain(fz::read_dequant<fz::e4m3>(t[0].ptr<const uint8_t>(), n, t[1].ptr<const float>()),
                             fz::write<T>(y, n)));
    }
    __builtin_unreachable();  // the schema admits only the names above
  };
  return s.dtype == DType::bf16 ? build(fz::bf16{}) : build(fz::f32{});
}

}  // namespace tessel::eltwise
