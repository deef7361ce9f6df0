// The swiglu op spec: descriptor schema, validity rules, double reference, work model and tolerance.
#include <algorithm>
#include <cmath>
#include <string>

#include "rmsnorm_quant/rmsnorm_quant.hpp"
#include "swiglu.hpp"
#include "../rowwise.hpp"

namespace tessel::swiglu {
namespace {

const std::vector<ParamDef>& schema() {
  static const std::vector<ParamDef> defs = {
      rowwise::rows_param("rows (tokens)"),
      rowwise::cols_param("width of y; x holds gate and up, 2 * cols wide"),
      rowwise::dtype_param("element type of x (and of y when quant=none)"),
      {"quant",
       ParamDef::Kind::choice,
       "none",
       {"none", "e4m3", "i8"},
       1,
       1,
       "none: write y; e4m3|i8: write q and a per-row scale instead"},
  };
  return defs;
}

// f32 arithmetic: exp within a few ulp, then an add, a divide and a multiply.
constexpr double kF32Error = 16 * 0x1p-24;

double silu(double g) { return g / (1.0 + std::exp(-g)); }

class SwigluSpec final : public OpSpec {
 public:
  std::string name() const override { return "swiglu"; }
  std::string summary() const override {
    return "y = silu(gate) * up with x = [gate | up]; optionally quantized per row (e4m3, i8)";
  }
  const std::vector<ParamDef>& params() const override { return schema(); }

  Status validate(const Problem& p) const override {
    const Shape s = Shape::from(p);
    return rowwise::check_extent("swiglu", s.rows, s.cols, int64_t{1} << 30);
  }

  std::vector<TensorDesc> tensors(const Problem& p) const override {
    const Shape s = Shape::from(p);
    using R = TensorDesc::Role;
    std::vector<TensorDesc> t = {{"x", R::input, s.dtype, {s.rows, 2 * s.cols}}};
    if (!s.quantized()) {
      t.push_back({"y", R::output, s.dtype, {s.rows, s.cols}});
    } else {
      t.push_back({"q", R::output, s.quant_dtype(), {s.rows, s.cols}});
      t.push_back({"scale", R::output, DType::f32, {s.rows, 1}});
    }
    return t;
  }

  Work work(const Problem& p) const override {
    const Shape s = Shape::from(p);
    Work w;
    // exp (counted as one), add, divide, multiply; quantizing adds abs, max, divide and round.
    w.flops = (s.quantized() ? 8.0 : 4.0) * double(s.rows) * double(s.cols);
    const DType out = s.quantized() ? s.quant_dtype() : s.dtype;
    w.min_bytes = double(dtype_storage_bytes(s.dtype, 2 * s.rows * s.cols)) +
                  double(dtype_storage_bytes(out, s.rows * s.cols)) + (s.quantized() ? 4.0 * double(s.rows) : 0.0);
    return w;
  }

  Tolerance tolerance(const Problem& p) const override {
    const Shape s = Shape::from(p);
    const double f32 = kF32Error;
    if (s.quantized()) return rmsnorm_quant::quantized_tolerance(s.quant_dtype(), s.rows, s.cols, f32);
    const double out_round = rowwise::storage_rounding(s.dtype);
    Tolerance t;
    t.max_rel_l2 = out_round + f32;
    t.elem_rtol = out_round + 2 * f32;
    t.elem_atol = 1e-7;
    return t;
  }
  Tolerance output_tolerance(const Problem& p, size_t output) const override {
    // Outputs q then scale when quantized; the scale has a bound of its own (see rmsnorm_quant).
    if (Shape::from(p).quantized() && output == 1) return rmsnorm_quant::scale_tolerance(kF32Error);
    return tolerance(p);
  }

  std::vector<std::string> samples() const override {
    return {
        "swiglu rows=1 cols=1",
        "swiglu rows=3 cols=7",
        "swiglu rows=17 cols=4097",
        "swiglu rows=2048 cols=1031",
        "swiglu rows=1 cols=1 dtype=bf16",
        "swiglu rows=33 cols=2049 dtype=bf16",
        "swiglu rows=2049 cols=1024 dtype=bf16",
        "swiglu rows=1 cols=1 quant=e4m3",
        "swiglu rows=5 cols=7 quant=e4m3",
        "swiglu rows=17 cols=4097 dtype=bf16 quant=e4m3",
        "swiglu rows=2049 cols=1024 dtype=bf16 quant=e4m3",
        "swiglu rows=3 cols=255 quant=i8",
        "swiglu rows=64 cols=1000 dtype=bf16 quant=i8",
    };
  }

  void reference(const Problem& p, std::span<const TensorView> in, std::span<const int64_t> rows,
                 std::vector<RefOutput>& outs) const override {
    const Shape s = Shape::from(p);
    const TensorView& x = in[kX];
    if (s.quantized())
      rowwise::init_outputs(outs, rows, {s.cols, 1});
    else
      rowwise::init_outputs(outs, rows, {s.cols});
    const double qmax = s.quant_dtype() == DType::e4m3 ? 448.0 : 127.0;
    for (size_t r = 0; r < rows.size(); ++r) {
      double* y = outs[0].values.data() + r * size_t(s.cols);
      double amax = 0;
      for (int64_t j = 0; j < s.cols; ++j) {
        const int64_t base = rows[r] * 2 * s.cols;
        y[j] = silu(load_as_double(x.dtype, x.data, base + j)) * load_as_double(x.dtype, x.data, base + s.cols + j);
        amax = std::max(amax, std::fabs(y[j]));
      }
      if (!s.quantized()) continue;
      const double scale = amax / qmax;
      for (int64_t j = 0; j < s.cols; ++j) y[j] = scale > 0 ? dtype_round(s.quant_dtype(), y[j] / scale) : 0.0;
      outs[1].values[r] = scale;
    }
  }
};

}  // namespace

Shape Shape::from(const Problem& p) {
  Shape s;
  s.rows = p.i64("rows");
  s.cols = p.i64("cols");
  s.dtype = p.dtype("dtype");
  s.quant = p.str("quant");
  return s;
}

std::unique_ptr<OpSpec> make_spec() { return std::make_unique<SwigluSpec>(); }

}  // namespace tessel::swiglu
