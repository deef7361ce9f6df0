// What the specs of the row-wise ops share (rmsnorm, softmax, layernorm, rmsnorm_residual,
// rmsnorm_quant, swiglu, eltwise): the rows/cols/eps parameters and their limits, the f32 error
// bound of a row reduction, and the shape of the reference's outputs. One place, so that a limit or
// a bound changes for every row-wise op at once.
#pragma once

#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <vector>

#include "tessel/runtime/op.hpp"

namespace tessel::rowwise {

inline ParamDef rows_param(std::string doc) {
  return {"rows", ParamDef::Kind::integer, "", {}, 1, int64_t{1} << 40, std::move(doc)};
}
inline ParamDef cols_param(std::string doc) {
  return {"cols", ParamDef::Kind::integer, "", {}, 1, int64_t{1} << 40, std::move(doc)};
}
// x (and whatever shares its type) in f32 or bf16.
inline ParamDef dtype_param(std::string doc) {
  return {"dtype", ParamDef::Kind::dtype, "f32", {"f32", "bf16"}, 1, 1, std::move(doc)};
}
inline ParamDef eps_param(std::string default_value, std::string doc) {
  return {"eps", ParamDef::Kind::real, std::move(default_value), {}, 1, 1, std::move(doc)};
}

// The limits of a row-wise problem. Past 2^24 terms an f32 row sum loses integer precision in its
// count and most of its accuracy (max_cols); 2^34 elements bound the harness's buffers.
inline Status check_extent(const std::string& op, int64_t rows, int64_t cols, int64_t max_cols = int64_t{1} << 24) {
  if (cols > max_cols)
    return Status::invalid(op, "cols", "at most " + std::to_string(max_cols) + ", got " + std::to_string(cols));
  if (double(rows) * double(cols) > double(int64_t{1} << 34))
    return Status::invalid(op, "rows*cols", "at most 2^34 elements");
  return {};
}
inline Status check_eps(const std::string& op, double eps, const Problem& p) {
  if (!(eps > 0) || !(eps <= 1)) return Status::invalid(op, "eps", "must be in (0, 1], got " + p.str("eps"));
  return {};
}

// Relative error of a row statistic computed in f32: a handful of roundings (the scale and its
// products) plus about log2(cols) from summing the row in blocks or a tree.
inline double reduction_error(int64_t cols) { return 0x1p-24 * (16.0 + std::log2(double(cols))); }
// Rounding an output to its storage type: bf16 keeps 8 significant bits (2^-8 relative); f32 none
// beyond the arithmetic's own.
inline double storage_rounding(DType t) { return t == DType::bf16 ? 0x1p-8 : 0.0; }

// Sizes the reference's outputs: one RefOutput per entry of `cols`, each holding `rows` rows.
inline void init_outputs(std::vector<RefOutput>& outs, std::span<const int64_t> rows,
                         std::initializer_list<int64_t> cols) {
  outs.assign(cols.size(), RefOutput{});
  size_t i = 0;
  for (int64_t c : cols) {
    RefOutput& o = outs[i++];
    o.cols = c;
    o.rows.assign(rows.begin(), rows.end());
    o.values.assign(rows.size() * size_t(c), 0.0);
  }
}

}  // namespace tessel::rowwise
