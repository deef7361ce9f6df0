// The rmsnorm op spec: descriptor schema, validity rules, double reference, work model and tolerance.
#include <cmath>
#include <string>

#include "rmsnorm.hpp"
#include "../rowwise.hpp"

namespace tessel::rmsnorm {
namespace {

const std::vector<ParamDef>& schema() {
  static const std::vector<ParamDef> defs = {
      rowwise::rows_param("rows normalized independently"),
      rowwise::cols_param("length of each row (the normalized dimension)"),
      rowwise::dtype_param("element type of x, weight and y"),
      rowwise::eps_param("1e-6", "added to the mean square before the square root"),
  };
  return defs;
}

class RmsNormSpec final : public OpSpec {
 public:
  std::string name() const override { return "rmsnorm"; }
  std::string summary() const override { return "y = x / sqrt(mean(x^2) + eps) * weight, over the last dim"; }
  const std::vector<ParamDef>& params() const override { return schema(); }

  Status validate(const Problem& p) const override {
    const Shape s = Shape::from(p);
    if (Status st = rowwise::check_extent("rmsnorm", s.rows, s.cols); !st.ok()) return st;
    return rowwise::check_eps("rmsnorm", s.eps, p);
  }

  std::vector<TensorDesc> tensors(const Problem& p) const override {
    const Shape s = Shape::from(p);
    using R = TensorDesc::Role;
    return {
        {"x", R::input, s.dtype, {s.rows, s.cols}},
        // A norm weight sits around 1: drawn values scaled by 0.1 and shifted by 1.
        {"weight", R::input, s.dtype, {s.cols}, 0.1, 1.0},
        {"y", R::output, s.dtype, {s.rows, s.cols}},
    };
  }

  Work work(const Problem& p) const override {
    const Shape s = Shape::from(p);
    Work w;
    // Square and add for the mean, then two multiplies per element.
    w.flops = 4.0 * double(s.rows) * double(s.cols);
    w.min_bytes = double(dtype_storage_bytes(s.dtype, s.rows * s.cols)) * 2 +
                  double(dtype_storage_bytes(s.dtype, s.cols));
    return w;
  }

  Tolerance tolerance(const Problem& p) const override {
    const Shape s = Shape::from(p);
    // f32 arithmetic: the scale 1/sqrt(.) and two products round once each, and the mean of
    // squares, summed in blocks or a tree, adds about log2(cols) roundings, halved by the square
    // root. Every error is relative to the element itself, so the absolute floor stays tiny.
    const double f32 = rowwise::reduction_error(s.cols);
    // bf16 output: round-to-nearest loses up to 2^-8 of each value (8 significant bits).
    const double out_round = rowwise::storage_rounding(s.dtype);
    Tolerance t;
    t.max_rel_l2 = out_round + f32;
    t.elem_rtol = out_round + 2 * f32;
    t.elem_atol = 1e-7;
    return t;
  }

  std::vector<std::string> samples() const override {
    return {
        "rmsnorm rows=1 cols=1",
        "rmsnorm rows=3 cols=7",
        "rmsnorm rows=5 cols=1",
        "rmsnorm rows=1 cols=65537",
        "rmsnorm rows=17 cols=4097",
        "rmsnorm rows=64 cols=1000",
        "rmsnorm rows=130 cols=33 eps=0.01",
        // Outputs of 8 MiB and more take cpu.simd's streaming-store path; odd cols misalign rows.
        "rmsnorm rows=2048 cols=1031",
        "rmsnorm rows=1 cols=1 dtype=bf16",
        "rmsnorm rows=3 cols=7 dtype=bf16",
        "rmsnorm rows=17 cols=4097 dtype=bf16",
        "rmsnorm rows=64 cols=1000 dtype=bf16",
        "rmsnorm rows=2 cols=65537 dtype=bf16 eps=1e-5",
        "rmsnorm rows=4099 cols=1025 dtype=bf16",
    };
  }

  void reference(const Problem& p, std::span<const TensorView> in, std::span<const int64_t> rows,
                 std::vector<RefOutput>& outs) const override {
    const Shape s = Shape::from(p);
    const TensorView& x = in[kX];
    const TensorView& w = in[kWeight];
    rowwise::init_outputs(outs, rows, {s.cols});
    RefOutput& y = outs[0];
    std::vector<double> xr(size_t(s.cols));
    for (size_t r = 0; r < rows.size(); ++r) {
      double ss = 0;
      for (int64_t j = 0; j < s.cols; ++j) {
        xr[size_t(j)] = load_as_double(x.dtype, x.data, rows[r] * s.cols + j);
        ss += xr[size_t(j)] * xr[size_t(j)];
      }
      const double scale = 1.0 / std::sqrt(ss / double(s.cols) + s.eps);
      for (int64_t j = 0; j < s.cols; ++j)
        y.values[r * size_t(s.cols) + size_t(j)] = xr[size_t(j)] * scale * load_as_double(w.dtype, w.data, j);
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

std::unique_ptr<OpSpec> make_spec() { return std::make_unique<RmsNormSpec>(); }

}  // namespace tessel::rmsnorm
