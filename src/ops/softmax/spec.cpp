// The softmax op spec: descriptor schema, validity rules, double reference, work model and tolerance.
#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "softmax.hpp"
#include "../rowwise.hpp"

namespace tessel::softmax {
namespace {

const std::vector<ParamDef>& schema() {
  static const std::vector<ParamDef> defs = {
      rowwise::rows_param("rows normalized independently"),
      rowwise::cols_param("length of each row (the softmax dimension)"),
      rowwise::dtype_param("element type of x and y"),
  };
  return defs;
}

class SoftmaxSpec final : public OpSpec {
 public:
  std::string name() const override { return "softmax"; }
  std::string summary() const override { return "y = exp(x - max) / sum(exp(x - max)), over the last dim"; }
  const std::vector<ParamDef>& params() const override { return schema(); }

  Status validate(const Problem& p) const override {
    const Shape s = Shape::from(p);
    return rowwise::check_extent("softmax", s.rows, s.cols);
  }

  std::vector<TensorDesc> tensors(const Problem& p) const override {
    const Shape s = Shape::from(p);
    using R = TensorDesc::Role;
    return {
        {"x", R::input, s.dtype, {s.rows, s.cols}},
        {"y", R::output, s.dtype, {s.rows, s.cols}},
    };
  }

  Work work(const Problem& p) const override {
    const Shape s = Shape::from(p);
    Work w;
    // Per element: max, subtract, exp (counted as one), add, multiply.
    w.flops = 5.0 * double(s.rows) * double(s.cols);
    w.min_bytes = 2.0 * double(dtype_storage_bytes(s.dtype, s.rows * s.cols));
    return w;
  }

  Tolerance tolerance(const Problem& p) const override {
    const Shape s = Shape::from(p);
    // f32 arithmetic: exp is good to a few ulps, but x - max rounds with an error relative to
    // |x - max|, which exp turns into a relative error of |x - max| * 2^-24 (up to about 1e-5 for
    // terms 150 below the max; those are tiny, so the absolute floor covers them). The row sum
    // is accumulated in blocks or a tree: about log2(cols) roundings.
    const double f32 = rowwise::reduction_error(s.cols);
    // bf16 output: round-to-nearest loses up to 2^-8 of each value (8 significant bits).
    const double out_round = rowwise::storage_rounding(s.dtype);
    Tolerance t;
    t.max_rel_l2 = out_round + 2 * f32;
    t.elem_rtol = out_round + 8 * f32;
    t.elem_atol = 1e-6;
    return t;
  }

  std::vector<std::string> samples() const override {
    return {
        "softmax rows=1 cols=1",
        "softmax rows=7 cols=1",
        "softmax rows=3 cols=7",
        "softmax rows=17 cols=4097",
        "softmax rows=64 cols=1000",
        "softmax rows=2 cols=100000",
        "softmax rows=1 cols=65537",
        // Outputs of 8 MiB and more take cpu.simd's streaming-store path; odd cols misalign rows.
        "softmax rows=2049 cols=1031",
        "softmax rows=3 cols=700001",
        "softmax rows=1 cols=1 dtype=bf16",
        "softmax rows=3 cols=7 dtype=bf16",
        "softmax rows=33 cols=2049 dtype=bf16",
        "softmax rows=2 cols=100000 dtype=bf16",
        "softmax rows=4097 cols=1025 dtype=bf16",
    };
  }

  void reference(const Problem& p, std::span<const TensorView> in, std::span<const int64_t> rows,
                 std::vector<RefOutput>& outs) const override {
    const Shape s = Shape::from(p);
    const TensorView& x = in[kX];
    rowwise::init_outputs(outs, rows, {s.cols});
    RefOutput& y = outs[0];
    for (size_t r = 0; r < rows.size(); ++r) {
      double* out = y.values.data() + r * size_t(s.cols);
      double mx = -std::numeric_limits<double>::infinity();
      for (int64_t j = 0; j < s.cols; ++j) {
        out[j] = load_as_double(x.dtype, x.data, rows[r] * s.cols + j);
        mx = std::max(mx, out[j]);
      }
      double sum = 0;
      for (int64_t j = 0; j < s.cols; ++j) {
        out[j] = std::exp(out[j] - mx);
        sum += out[j];
      }
      for (int64_t j = 0; j < s.cols; ++j) out[j] /= sum;
    }
  }
};

}  // namespace

Shape Shape::from(const Problem& p) {
  Shape s;
  s.rows = p.i64("rows");
  s.cols = p.i64("cols");
  s.dtype = p.dtype("dtype");
  return s;
}

std::unique_ptr<OpSpec> make_spec() { return std::make_unique<SoftmaxSpec>(); }

}  // namespace tessel::softmax
