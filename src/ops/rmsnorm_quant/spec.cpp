// The rmsnorm_quant op spec: descriptor schema, validity rules, double reference, work model and tolerance.
//
// How quantized outputs are compared. q is compared as the harness compares any output:
// elementwise, as load_as_double of the stored code, against the reference's exact
// round(y / scale) (both in units of the quantization grid: q * scale dequantizes). A correct f32
// implementation can land on the other side of a rounding boundary when y / scale is within its
// own rounding error of a midpoint; that flips q by one step, and the tolerance accepts exactly
// one step: e4m3's step is at most 2^-3 of |q| in its normal range (rtol) and 2^-9 below it; int8's
// is 1 (both through elem_abs, in units of q, whatever the data). The relative L2 error holds
// systematic errors (a wrong scale or eps) to about one part in a hundred, while it allows a budget
// of flips: 4 plus 1e-4 (e4m3) or 1e-3 (int8) of the elements, each as large as a step can be. That
// budget is relative to rms(q), taken at a lower bound: every row holds one element at |q| = qmax,
// so rms(q) >= qmax / sqrt(cols); and for the harness's value distributions (the heavy-tailed one,
// with 1% outliers of 20-50x, is the worst) rms(q) stays above about qmax / 16, so the bound used
// is qmax * max(1/sqrt(cols), 1/16). (It once set the per-element step too, through atol * rms(q);
// a heavy-tailed row with rms(q) below qmax / 16 then failed a correct one-step flip: cuda.fused,
// rmsnorm_quant rows=9 cols=8200 quant=i8.) The scale
// output has a bound of its own (scale_tolerance): it is max|y| / qmax, an f32 value with no
// rounding boundary to cross, so it is held to the f32 error of y itself.
#include <algorithm>
#include <cmath>
#include <string>

#include "rmsnorm_quant.hpp"
#include "../rowwise.hpp"

namespace tessel::rmsnorm_quant {
namespace {

const std::vector<ParamDef>& schema() {
  static const std::vector<ParamDef> defs = {
      rowwise::rows_param("rows (tokens), each with its own scale"),
      rowwise::cols_param("length of each row (the hidden size)"),
      rowwise::dtype_param("element type of x and weight"),
      {"quant", ParamDef::Kind::dtype, "e4m3", {"e4m3", "i8"}, 1, 1, "element type of q (fp8 e4m3 or int8)"},
      rowwise::eps_param("1e-6", "added to the mean square before the square root"),
  };
  return defs;
}

class RmsNormQuantSpec final : public OpSpec {
 public:
  std::string name() const override { return "rmsnorm_quant"; }
  std::string summary() const override {
    return "y = rmsnorm(x) * weight; scale = max|y| / qmax per row; q = round(y / scale) (fp8 e4m3 or int8)";
  }
  const std::vector<ParamDef>& params() const override { return schema(); }

  Status validate(const Problem& p) const override {
    const Shape s = Shape::from(p);
    if (Status st = rowwise::check_extent("rmsnorm_quant", s.rows, s.cols); !st.ok()) return st;
    return rowwise::check_eps("rmsnorm_quant", s.eps, p);
  }

  std::vector<TensorDesc> tensors(const Problem& p) const override {
    const Shape s = Shape::from(p);
    using R = TensorDesc::Role;
    return {
        {"x", R::input, s.dtype, {s.rows, s.cols}},
        {"weight", R::input, s.dtype, {s.cols}, 0.1, 1.0},
        {"q", R::output, s.quant, {s.rows, s.cols}},
        // [rows, 1]: one row of the harness's [rows, cols] view per token, like q's rows.
        {"scale", R::output, DType::f32, {s.rows, 1}},
    };
  }

  Work work(const Problem& p) const override {
    const Shape s = Shape::from(p);
    Work w;
    // Square and add; scale and weight; abs and max; divide and round.
    w.flops = 7.0 * double(s.rows) * double(s.cols);
    w.min_bytes = double(dtype_storage_bytes(s.dtype, s.rows * s.cols)) +
                  double(dtype_storage_bytes(s.quant, s.rows * s.cols)) + double(dtype_storage_bytes(s.dtype, s.cols)) +
                  4.0 * double(s.rows);
    return w;
  }

  Tolerance tolerance(const Problem& p) const override {
    const Shape s = Shape::from(p);
    // f32 arithmetic of y and of the scale, as for rmsnorm.
    return quantized_tolerance(s.quant, s.rows, s.cols, rowwise::reduction_error(s.cols));
  }
  Tolerance output_tolerance(const Problem& p, size_t output) const override {
    const Shape s = Shape::from(p);
    if (output == size_t(kScale - kQ)) return scale_tolerance(rowwise::reduction_error(s.cols));
    return tolerance(p);
  }

  std::vector<std::string> samples() const override {
    return {
        "rmsnorm_quant rows=1 cols=1",
        "rmsnorm_quant rows=3 cols=7",
        "rmsnorm_quant rows=5 cols=1 quant=i8",
        "rmsnorm_quant rows=17 cols=4097",
        "rmsnorm_quant rows=64 cols=1000 eps=0.01",
        "rmsnorm_quant rows=1 cols=65537 quant=i8",
        "rmsnorm_quant rows=33 cols=255 quant=i8",
        // 2M elements and more take the streaming-store path; odd cols misalign most rows.
        "rmsnorm_quant rows=2048 cols=1031",
        "rmsnorm_quant rows=1 cols=1 dtype=bf16 quant=i8",
        "rmsnorm_quant rows=3 cols=7 dtype=bf16",
        "rmsnorm_quant rows=33 cols=2049 dtype=bf16",
        "rmsnorm_quant rows=2 cols=65537 dtype=bf16 eps=1e-5",
        "rmsnorm_quant rows=2049 cols=1024 dtype=bf16 quant=i8",
    };
  }

  void reference(const Problem& p, std::span<const TensorView> in, std::span<const int64_t> rows,
                 std::vector<RefOutput>& outs) const override {
    const Shape s = Shape::from(p);
    const TensorView& x = in[kX];
    const TensorView& w = in[kWeight];
    rowwise::init_outputs(outs, rows, {s.cols, 1});
    std::vector<double> y(size_t(s.cols));
    for (size_t r = 0; r < rows.size(); ++r) {
      double ss = 0;
      for (int64_t j = 0; j < s.cols; ++j) {
        const double v = load_as_double(x.dtype, x.data, rows[r] * s.cols + j);
        y[size_t(j)] = v;
        ss += v * v;
      }
      const double inv = 1.0 / std::sqrt(ss / double(s.cols) + s.eps);
      double amax = 0;
      for (int64_t j = 0; j < s.cols; ++j) {
        y[size_t(j)] = y[size_t(j)] * inv * load_as_double(w.dtype, w.data, j);
        amax = std::max(amax, std::fabs(y[size_t(j)]));
      }
      const double scale = amax / s.qmax();
      double* q = outs[0].values.data() + r * size_t(s.cols);
      for (int64_t j = 0; j < s.cols; ++j) q[j] = scale > 0 ? dtype_round(s.quant, y[size_t(j)] / scale) : 0.0;
      outs[1].values[r] = scale;
    }
  }
};

}  // namespace

Tolerance quantized_tolerance(DType quant, int64_t rows, int64_t cols, double f32_rel) {
  const bool fp8 = quant == DType::e4m3;
  const double qmax = fp8 ? 448.0 : 127.0;
  // The lower bound on rms(q) explained at the top of this file.
  const double rms_lb = qmax * std::max(1.0 / std::sqrt(double(cols)), 1.0 / 16.0);
  const double abs_step = fp8 ? 0x1p-9 : 1.0;  // the step where it is absolute
  const double rel_step = fp8 ? 0x1p-3 : 0.0;  // the step relative to |q| (e4m3's normal range)
  // The flip budget: each flip as large as a step can be (qmax * 2^-3 for e4m3, 1 for int8). A flip
  // needs y / scale within the f32 error of a midpoint, so its chance grows with |q| / step: at most
  // 16 for e4m3 but 127 for int8, and inputs of small integers make exact midpoints common.
  const double n = double(rows) * double(cols);
  const double flips = 4.0 + (fp8 ? 1e-4 : 1e-3) * n;
  const double worst_flip = fp8 ? rel_step * qmax : abs_step;
  Tolerance t;
  t.elem_rtol = rel_step * (1 + 1e-3) + 2 * f32_rel;
  t.elem_atol = 0;
  t.elem_abs = 1.01 * abs_step;
  t.max_rel_l2 = worst_flip * std::sqrt(flips / n) / rms_lb + f32_rel;
  return t;
}

Tolerance scale_tolerance(double f32_rel) {
  // max|y| carries y's relative error; dividing by qmax rounds once more.
  Tolerance t;
  t.elem_rtol = 2 * f32_rel + 0x1p-23;
  t.max_rel_l2 = f32_rel + 0x1p-23;
  t.elem_atol = 1e-30;  // an all-zero row has scale 0 exactly
  return t;
}

Shape Shape::from(const Problem& p) {
  Shape s;
  s.rows = p.i64("rows");
  s.cols = p.i64("cols");
  s.dtype = p.dtype("dtype");
  s.quant = p.dtype("quant");
  s.eps = p.real("eps");
  return s;
}

std::unique_ptr<OpSpec> make_spec() { return std::make_unique<RmsNormQuantSpec>(); }

}  // namespace tessel::rmsnorm_quant
