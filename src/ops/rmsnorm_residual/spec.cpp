// The rmsnorm_residual op spec: descriptor schema, validity rules, double reference, work model and tolerance.
#include <cmath>
#include <string>

#include "rmsnorm_residual.hpp"
#include "../rowwise.hpp"

namespace tessel::rmsnorm_residual {
namespace {

const std::vector<ParamDef>& schema() {
  static const std::vector<ParamDef> defs = {
      rowwise::rows_param("rows (tokens) normalized independently"),
      rowwise::cols_param("length of each row (the hidden size)"),
      rowwise::dtype_param("element type of every tensor"),
      rowwise::eps_param("1e-6", "added to the mean square before the square root"),
  };
  return defs;
}

class RmsNormResidualSpec final : public OpSpec {
 public:
  std::string name() const override { return "rmsnorm_residual"; }
  std::string summary() const override {
    return "h = x + residual; y = h / sqrt(mean(h^2) + eps) * weight (outputs h and y)";
  }
  const std::vector<ParamDef>& params() const override { return schema(); }

  Status validate(const Problem& p) const override {
    const Shape s = Shape::from(p);
    if (Status st = rowwise::check_extent("rmsnorm_residual", s.rows, s.cols); !st.ok()) return st;
    return rowwise::check_eps("rmsnorm_residual", s.eps, p);
  }

  std::vector<TensorDesc> tensors(const Problem& p) const override {
    const Shape s = Shape::from(p);
    using R = TensorDesc::Role;
    return {
        {"x", R::input, s.dtype, {s.rows, s.cols}},
        {"residual", R::input, s.dtype, {s.rows, s.cols}},
        // A norm weight sits around 1: drawn values scaled by 0.1 and shifted by 1.
        {"weight", R::input, s.dtype, {s.cols}, 0.1, 1.0},
        {"h", R::output, s.dtype, {s.rows, s.cols}},
        {"y", R::output, s.dtype, {s.rows, s.cols}},
    };
  }

  Work work(const Problem& p) const override {
    const Shape s = Shape::from(p);
    Work w;
    // Add, square and accumulate, then two multiplies per element.
    w.flops = 5.0 * double(s.rows) * double(s.cols);
    // Reads x and residual, writes h and y, reads the weight once.
    w.min_bytes =
        4.0 * double(dtype_storage_bytes(s.dtype, s.rows * s.cols)) + double(dtype_storage_bytes(s.dtype, s.cols));
    return w;
  }

  Tolerance tolerance(const Problem& p) const override {
    const Shape s = Shape::from(p);
    // f32 arithmetic, as for rmsnorm: the scale and two products round once each; the mean of
    // squares adds about log2(cols) roundings, halved by the square root. h is one rounded add.
    const double f32 = rowwise::reduction_error(s.cols);
    // bf16 outputs: round-to-nearest loses up to 2^-8 of each value (8 significant bits).
    const double out_round = rowwise::storage_rounding(s.dtype);
    Tolerance t;
    t.max_rel_l2 = out_round + f32;
    t.elem_rtol = out_round + 2 * f32;
    t.elem_atol = 1e-7;
    return t;
  }

  std::vector<std::string> samples() const override {
    return {
        "rmsnorm_residual rows=1 cols=1",
        "rmsnorm_residual rows=3 cols=7",
        "rmsnorm_residual rows=5 cols=1",
        "rmsnorm_residual rows=17 cols=4097",
        "rmsnorm_residual rows=64 cols=1000 eps=0.01",
        "rmsnorm_residual rows=1 cols=65537",
        // 2M elements and more take the streaming-store path; odd cols misalign most rows.
        "rmsnorm_residual rows=2048 cols=1031",
        "rmsnorm_residual rows=1 cols=1 dtype=bf16",
        "rmsnorm_residual rows=3 cols=7 dtype=bf16",
        "rmsnorm_residual rows=33 cols=2049 dtype=bf16",
        "rmsnorm_residual rows=2 cols=65537 dtype=bf16 eps=1e-5",
        "rmsnorm_residual rows=2049 cols=1024 dtype=bf16",
    };
  }

  void reference(const Problem& p, std::span<const TensorView> in, std::span<const int64_t> rows,
                 std::vector<RefOutput>& outs) const override {
    const Shape s = Shape::from(p);
    const TensorView& x = in[kX];
    const TensorView& res = in[kResidual];
    const TensorView& w = in[kWeight];
    rowwise::init_outputs(outs, rows, {s.cols, s.cols});
    for (size_t r = 0; r < rows.size(); ++r) {
      double* h = outs[0].values.data() + r * size_t(s.cols);
      double* y = outs[1].values.data() + r * size_t(s.cols);
      double ss = 0;
      for (int64_t j = 0; j < s.cols; ++j) {
        const int64_t i = rows[r] * s.cols + j;
        h[j] = dtype_round(s.dtype, load_as_double(x.dtype, x.data, i) + load_as_double(res.dtype, res.data, i));
        ss += h[j] * h[j];
      }
      const double scale = 1.0 / std::sqrt(ss / double(s.cols) + s.eps);
      for (int64_t j = 0; j < s.cols; ++j) y[j] = h[j] * scale * load_as_double(w.dtype, w.data, j);
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

std::unique_ptr<OpSpec> make_spec() { return std::make_unique<RmsNormResidualSpec>(); }

}  // namespace tessel::rmsnorm_residual
