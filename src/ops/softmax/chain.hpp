// The softmax fusion chains, written once: cpu_fused.cpp runs them with fuse::cpu, cuda.cu with fuse::cuda.
//
//   rows up to the runner's stash (stash_cols: registers on the GPU, a per-thread f32 copy on the CPU):
//     read x -> exp_minus_max (row max, then e^(x - max)) -> normalize_sum (row sum, then / sum) -> write y
//   longer rows, re-read for each pass:
//     read x -> softmax (online max and rescaled sum, then exp(x - max) / sum) -> write y
//
// From the stash the two-reduction form takes one exp per element; re-reading, the online form saves a
// pass over memory.
#pragma once

#include <cstdint>
#include <span>

#include "softmax.hpp"
#include "tessel/fuse/fuse.hpp"

namespace tessel::softmax {

// Calls run(chain) with the chain for these tensors in the problem's element type; returns its result.
template <class Run>
auto with_chain(const Shape& s, std::span<const TensorView> t, int64_t stash_cols, Run&& run) {
  namespace fz = tessel::fuse;
  auto build = [&]<class T>(T) {
    using S = typename T::storage;
    const auto x = fz::read<T>(t[kX].ptr<const S>(), s.cols);
    const auto y = fz::write<T>(t[kY].ptr<S>(), s.cols);
    if (s.cols <= stash_cols) return run(fz::chain(x, fz::exp_minus_max(), fz::normalize_sum(), y));
    return run(fz::chain(x, fz::softmax(), y));
  };
  return s.dtype == DType::bf16 ? build(fz::bf16{}) : build(fz::f32{});
}

}  // namespace tessel::softmax
