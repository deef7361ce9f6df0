// The eltwise op spec: descriptor schema, validity rules, double reference, work model and tolerance.
#include <algorithm>
#include <cmath>
#include <string>

#include "eltwise.hpp"
#include "../rowwise.hpp"

namespace tessel::eltwise {
namespace {

const std::vector<ParamDef>& schema() {
  static const std::vector<ParamDef> defs = {
      rowwise::rows_param("rows"),
      rowwise::cols_param("columns"),
      rowwise::dtype_param("element type of y and of the float inputs"),
      {"chain", ParamDef::Kind::choice, "silu", chain_names(), 1, 1, "which chain (see docs/fusion.md)"},
  };
  return defs;
}

bool binary(ChainId c) { return c == ChainId::silu_mul || c == ChainId::gelu_mul; }
bool dequant(ChainId c) { return c == ChainId::dequant_i8 || c == ChainId::dequant_e4m3; }

double silu(double x) { return x / (1.0 + std::exp(-x)); }
// 0.5 x (1 + tanh(u)) written as x * sigmoid(2u), the same function without cancellation for x < 0.
double gelu_tanh(double x) { return x / (1.0 + std::exp(-1.5957691216057308 * (x + 0.044715 * x * x * x))); }
double gelu_erf(double x) { return 0.5 * x * std::erfc(-x * 0.7071067811865476); }

class EltwiseSpec final : public OpSpec {
 public:
  std::string name() const override { return "eltwise"; }
  std::string summary() const override {
    return "y = a named elementwise chain: activations, gated products, bias+gelu, dequantization";
  }
  const std::vector<ParamDef>& params() const override { return schema(); }

  Status validate(const Problem& p) const override {
    const Shape s = Shape::from(p);
    // No row reduction: any row length up to the element limit.
    return rowwise::check_extent("eltwise", s.rows, s.cols, int64_t{1} << 34);
  }

  std::vector<TensorDesc> tensors(const Problem& p) const override {
    const Shape s = Shape::from(p);
    using R = TensorDesc::Role;
    std::vector<TensorDesc> t;
    if (binary(s.chain)) {
      t.push_back({"a", R::input, s.dtype, {s.rows, s.cols}});
      t.push_back({"b", R::input, s.dtype, {s.rows, s.cols}});
    } else if (dequant(s.chain)) {
      t.push_back({"q", R::input, s.chain == ChainId::dequant_i8 ? DType::i8 : DType::e4m3, {s.rows, s.cols}});
      // Positive per-row scales of the size a quantizer gives (max|y| / qmax).
      TensorDesc scale{"scale", R::input, DType::f32, {s.rows, 1}, 0.01, 0.0};
      scale.positive = true;
      t.push_back(scale);
    } else {
      t.push_back({"x", R::input, s.dtype, {s.rows, s.cols}});
      if (s.chain == ChainId::bias_gelu) t.push_back({"bias", R::input, s.dtype, {s.cols}, 0.5, 0.0});
    }
    t.push_back({"y", R::output, s.dtype, {s.rows, s.cols}});
    return t;
  }

  Work work(const Problem& p) const override {
    const Shape s = Shape::from(p);
    Work w;
    const double n = double(s.rows) * double(s.cols);
    w.flops = (s.chain == ChainId::relu || dequant(s.chain) ? 1.0 : 4.0) * n + (binary(s.chain) ? n : 0.0);
    const auto descs = tensors(p);
    for (const TensorDesc& d : descs) {
      int64_t count = 1;
      for (int64_t e : d.shape) count *= e;
      w.min_bytes += double(dtype_storage_bytes(d.dtype, count));
    }
    return w;
  }

  Tolerance tolerance(const Problem& p) const override {
    const Shape s = Shape::from(p);
    // f32 arithmetic: a product or a dequantization rounds once; exp-based activations are within a
    // few ulp; the erfc behind gelu_erf (Numerical Recipes' erfcc) within about 1e-6 relative.
    double f32 = 0x1p-24 * 4;
    if (s.chain == ChainId::silu || s.chain == ChainId::silu_mul || s.chain == ChainId::gelu_tanh ||
        s.chain == ChainId::gelu_mul)
      f32 = 0x1p-24 * 32;
    if (s.chain == ChainId::gelu_erf || s.chain == ChainId::bias_gelu) f32 = 0x1p-24 * 64;
    const double out_round = rowwise::storage_rounding(s.dtype);
    Tolerance t;
    t.max_rel_l2 = out_round + f32;
    t.elem_rtol = out_round + f32;
    t.elem_atol = f32;
    return t;
  }

  std::vector<std::string> samples() const override {
    std::vector<std::string> s;
    // Every chain at an odd shape in f32 and bf16, plus a one-element problem and a large one that
    // takes the streaming-store path.
    for (const std::string& c : chain_names()) {
      s.push_back("eltwise rows=3 cols=1031 chain=" + c);
      s.push_back("eltwise rows=17 cols=33 dtype=bf16 chain=" + c);
    }
    s.push_back("eltwise rows=1 cols=1 chain=gelu_erf");
    s.push_back("eltwise rows=7 cols=1 dtype=bf16 chain=silu_mul");
    s.push_back("eltwise rows=2048 cols=1031 chain=gelu_tanh");
    s.push_back("eltwise rows=1025 cols=2048 dtype=bf16 chain=silu_mul");
    return s;
  }

  void reference(const Problem& p, std::span<const TensorView> in, std::span<const int64_t> rows,
                 std::vector<RefOutput>& outs) const override {
    const Shape s = Shape::from(p);
    rowwise::init_outputs(outs, rows, {s.cols});
    RefOutput& y = outs[0];
    auto at = [&](size_t t, int64_t i) { return load_as_double(in[t].dtype, in[t].data, i); };
    for (size_t r = 0; r < rows.size(); ++r) {
      for (int64_t j = 0; j < s.cols; ++j) {
        const int64_t i = rows[r] * s.cols + j;
        double v = 0;
        switch (s.chain) {
          case ChainId::silu:
            v = silu(at(0, i));
            break;
          case ChainId::gelu_tanh:
            v = gelu_tanh(at(0, i));
            break;
          case ChainId::gelu_erf:
            v = gelu_erf(at(0, i));
            break;
          case ChainId::relu:
            v = std::max(at(0, i), 0.0);
            break;
          case ChainId::silu_mul:
            v = silu(at(0, i)) * at(1, i);
            break;
          case ChainId::gelu_mul:
            v = gelu_tanh(at(0, i)) * at(1, i);
            break;
          case ChainId::bias_gelu:
            v = gelu_erf(at(0, i) + at(1, j));
            break;
          case ChainId::dequant_i8:
          case ChainId::dequant_e4m3:
            v = at(0, i) * at(1, rows[r]);
            break;
        }
        y.values[r * size_t(s.cols) + size_t(j)] = v;
      }
    }
  }
};

}  // namespace

const std::vector<std::string>& chain_names() {
  static const std::vector<std::string> names = {"silu",     "gelu_tanh", "gelu_erf",   "relu",        "silu_mul",
                                                 "gelu_mul", "bias_gelu", "dequant_i8", "dequant_e4m3"};
  return names;
}

Shape Shape::from(const Problem& p) {
  Shape s;
  s.rows = p.i64("rows");
  s.cols = p.i64("cols");
  s.dtype = p.dtype("dtype");
  const auto& names = chain_names();
  s.chain = ChainId(std::find(names.begin(), names.end(), p.str("chain")) - names.begin());
  return s;
}

std::unique_ptr<OpSpec> make_spec() { return std::make_unique<EltwiseSpec>(); }

}  // namespace tessel::eltwise
