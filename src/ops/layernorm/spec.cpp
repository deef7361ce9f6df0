// The layernorm op spec: descriptor schema, validity rules, double reference, work model and tolerance.
#include <cmath>
#include <string>

#include "layernorm.hpp"
#include "../rowwise.hpp"

namespace tessel::layernorm {
namespace {

const std::vector<ParamDef>& schema() {
  static const std::vector<ParamDef> defs = {
      rowwise::rows_param("rows normalized independently"),
      rowwise::cols_param("length of each row (the normalized dimension)"),
      rowwise::dtype_param("element type of x, weight, bias and y"),
      rowwise::eps_param("1e-5", "added to the variance before the square root"),
  };
  return defs;
}

class LayerNormSpec final : public OpSpec {
 public:
  std::string name() const override { return "layernorm"; }
  std::string summary() const override { return "y = (x - mean) / sqrt(var + eps) * weight + bias, over the last dim"; }
  const std::vector<ParamDef>& params() const override { return schema(); }

  Status validate(const Problem& p) const override {
    const Shape s = Shape::from(p);
    if (Status st = rowwise::check_extent("layernorm", s.rows, s.cols); !st.ok()) return st;
    return rowwise::check_eps("layernorm", s.eps, p);
  }

  std::vector<TensorDesc> tensors(const Problem& p) const override {
    const Shape s = Shape::from(p);
    using R = TensorDesc::Role;
    return {
        {"x", R::input, s.dtype, {s.rows, s.cols}},
        {"weight", R::input, s.dtype, {s.cols}, 0.1, 1.0},
        {"bias", R::input, s.dtype, {s.cols}, 0.1, 0.0},
        {"y", R::output, s.dtype, {s.rows, s.cols}},
    };
  }

  Work work(const Problem& p) const override {
    const Shape s = Shape::from(p);
    Work w;
    // Mean; subtract, square and add; scale, weight and bias.
    w.flops = 7.0 * double(s.rows) * double(s.cols);
    w.min_bytes = 2.0 * double(dtype_storage_bytes(s.dtype, s.rows * s.cols)) +
                  2.0 * double(dtype_storage_bytes(s.dtype, s.cols));
    return w;
  }

  Tolerance tolerance(const Problem& p) const override {
    const Shape s = Shape::from(p);
    // f32 arithmetic: the mean and the variance each sum about log2(cols) roundings deep; the
    // centered value carries the mean's rounding (relative to |mean|, small against the spread for
    // these inputs); then scale, weight and bias round once each. Adding the bias can cancel, so
    // part of the bound is absolute (relative to rms(y)).
    const double f32 = rowwise::reduction_error(s.cols);
    const double out_round = rowwise::storage_rounding(s.dtype);
    Tolerance t;
    t.max_rel_l2 = out_round + 2 * f32;
    t.elem_rtol = out_round + 2 * f32;
    t.elem_atol = 4 * f32;
    return t;
  }

  std::vector<std::string> samples() const override {
    return {
        "layernorm rows=1 cols=1",
        "layernorm rows=3 cols=7",
        "layernorm rows=5 cols=1",
        "layernorm rows=17 cols=4097",
        "layernorm rows=64 cols=1000 eps=0.01",
        "layernorm rows=1 cols=65537",
        "layernorm rows=2048 cols=1031",
        "layernorm rows=1 cols=1 dtype=bf16",
        "layernorm rows=3 cols=7 dtype=bf16",
        "layernorm rows=33 cols=2049 dtype=bf16",
        "layernorm rows=2 cols=65537 dtype=bf16 eps=1e-6",
        "layernorm rows=2049 cols=1024 dtype=bf16",
    };
  }

  void reference(const Problem& p, std::span<const TensorView> in, std::span<const int64_t> rows,
                 std::vector<RefOutput>& outs) const override {
    const Shape s = Shape::from(p);
    const TensorView& x = in[kX];
    const TensorView& w = in[kWeight];
    const TensorView& b = in[kBias];
    rowwise::init_outputs(outs, rows, {s.cols});
    RefOutput& y = outs[0];
    for (size_t r = 0; r < rows.size(); ++r) {
      double* out = y.values.data() + r * size_t(s.cols);
      double sum = 0;
      for (int64_t j = 0; j < s.cols; ++j) {
        out[j] = load_as_double(x.dtype, x.data, rows[r] * s.cols + j);
        sum += out[j];
      }
      const double mean = sum / double(s.cols);
      double var = 0;
      for (int64_t j = 0; j < s.cols; ++j) var += (out[j] - mean) * (out[j] - mean);
      const double inv = 1.0 / std::sqrt(var / double(s.cols) + s.eps);
      for (int64_t j = 0; j < s.cols; ++j)
        out[j] = (out[j] - mean) * inv * load_as_double(w.dtype, w.data, j) + load_as_double(b.dtype, b.data, j);
    }
  }
};

}  // namespace

Shape Shape::from(const Problem& p) {
  Shape s;
  s.rows = p.i64("rows");
  s.cols = p.i64("cols");
  s.dtype = p.dtype("dtype");
  s.eps = p.real("eps");
  return s;
}

std::unique_ptr<OpSpec> make_spec() { return std::make_unique<LayerNormSpec>(); }

}  // namespace tessel::layernorm
