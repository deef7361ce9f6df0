// The rope op spec: descriptor schema, validity rules, double reference, work model and tolerance.
#include <cmath>
#include <string>

#include "rope.hpp"
#include "../rowwise.hpp"

namespace tessel::rope {
namespace {

const std::vector<ParamDef>& schema() {
  using K = ParamDef::Kind;
  static const std::vector<ParamDef> defs = {
      {"tokens", K::integer, "", {}, 1, int64_t{1} << 32, "tokens, each with its position"},
      {"heads_q", K::integer, "", {}, 1, 1 << 16, "query heads"},
      {"heads_k", K::integer, "", {}, 1, 1 << 16, "key heads (fewer than heads_q with GQA/MQA)"},
      {"dim", K::integer, "", {}, 2, kMaxDim, "head size, rotated in full (even)"},
      {"dtype", K::dtype, "f32", {"f32", "bf16"}, 1, 1, "element type of q, k and the outputs"},
      {"style", K::choice, "neox", {"neox", "gptj"}, 1, 1, "neox: rotate halves; gptj: interleaved pairs"},
      {"theta", K::real, "10000", {}, 1, 1, "base of the frequencies theta^(-2i/dim)"},
  };
  return defs;
}

class RopeSpec final : public OpSpec {
 public:
  std::string name() const override { return "rope"; }
  std::string summary() const override {
    return "rotary embedding of q and k by positions (neox or gptj pairs), in one launch";
  }
  const std::vector<ParamDef>& params() const override { return schema(); }

  Status validate(const Problem& p) const override {
    const Shape s = Shape::from(p);
    if (s.dim % 2 != 0) return Status::invalid("rope", "dim", "must be even, got " + std::to_string(s.dim));
    if (!(s.theta > 1) || !std::isfinite(s.theta))
      return Status::invalid("rope", "theta", "must be a finite number above 1, got " + p.str("theta"));
    if (double(s.tokens) * double(s.heads_q + s.heads_k) * s.dim > double(int64_t{1} << 34))
      return Status::invalid("rope", "tokens*(heads_q+heads_k)*dim", "at most 2^34 elements");
    return {};
  }

  std::vector<TensorDesc> tensors(const Problem& p) const override {
    const Shape s = Shape::from(p);
    using R = TensorDesc::Role;
    return {
        // Positions of the size long contexts reach: the drawn values times 1000, rounded.
        {"positions", R::input, DType::i32, {s.tokens}, 1000.0, 0.0},
        {"q", R::input, s.dtype, {s.tokens, s.heads_q * s.dim}},
        {"k", R::input, s.dtype, {s.tokens, s.heads_k * s.dim}},
        {"q_out", R::output, s.dtype, {s.tokens, s.heads_q * s.dim}},
        {"k_out", R::output, s.dtype, {s.tokens, s.heads_k * s.dim}},
    };
  }

  Work work(const Problem& p) const override {
    const Shape s = Shape::from(p);
    const int64_t n = s.tokens * (s.heads_q + s.heads_k) * s.dim;
    Work w;
    // Two multiplies and an add per element (the trig is per token, not per element).
    w.flops = 3.0 * double(n);
    w.min_bytes = 2.0 * double(dtype_storage_bytes(s.dtype, n)) + 4.0 * double(s.tokens);
    return w;
  }

  Tolerance tolerance(const Problem& p) const override {
    const Shape s = Shape::from(p);
    // f32 arithmetic: cos and sin rounded to f32 (within an ulp or two), two products and a sum.
    // a cos - b sin can cancel, leaving an error of a few ulp of max(|a|, |b|) on a small result:
    // absolute, against rms(out) = rms(in); heavy-tailed inputs put 50x outliers next to values of
    // rms size, hence the wide absolute part.
    const double out_round = rowwise::storage_rounding(s.dtype);
    Tolerance t;
    t.max_rel_l2 = out_round + 8 * 0x1p-24;
    t.elem_rtol = out_round + 8 * 0x1p-24;
    t.elem_atol = 64 * 0x1p-24;
    return t;
  }

  std::vector<std::string> samples() const override {
    return {
        "rope tokens=1 heads_q=1 heads_k=1 dim=2",
        "rope tokens=3 heads_q=4 heads_k=2 dim=64",
        "rope tokens=7 heads_q=2 heads_k=3 dim=80",  // dim/2 = 40: vectors straddle the halves
        "rope tokens=5 heads_q=3 heads_k=1 dim=80 style=gptj",
        "rope tokens=9 heads_q=5 heads_k=3 dim=34 dtype=bf16",  // odd dim/2 and a tail every row
        "rope tokens=9 heads_q=5 heads_k=3 dim=34 dtype=bf16 style=gptj",
        "rope tokens=1 heads_q=1 heads_k=1 dim=2 dtype=bf16 style=gptj",
        "rope tokens=17 heads_q=8 heads_k=2 dim=128 dtype=bf16 theta=500000",
        // f32 NeoX at 128 (the GPU's short-row path, four rows a group): rows of 3 and of 1 head
        // put 2 and 4 tokens in one group.
        "rope tokens=11 heads_q=3 heads_k=1 dim=128",
        "rope tokens=129 heads_q=16 heads_k=4 dim=256 style=gptj",
        // 2M elements and more take the streaming-store path.
        "rope tokens=520 heads_q=32 heads_k=8 dim=128 dtype=bf16",
    };
  }

  void reference(const Problem& p, std::span<const TensorView> in, std::span<const int64_t> rows,
                 std::vector<RefOutput>& outs) const override {
    const Shape s = Shape::from(p);
    const std::vector<double> f = inv_freq(s.theta, s.dim);
    const int half = s.dim / 2;
    outs.assign(2, RefOutput{});
    for (int o = 0; o < 2; ++o) {
      const TensorView& x = in[size_t(o == 0 ? kQ : kK)];
      const int64_t heads = o == 0 ? s.heads_q : s.heads_k;
      RefOutput& out = outs[size_t(o)];
      out.cols = heads * s.dim;
      out.rows.assign(rows.begin(), rows.end());
      out.values.assign(rows.size() * size_t(out.cols), 0.0);
      for (size_t r = 0; r < rows.size(); ++r) {
        const double pos = load_as_double(DType::i32, in[kPositions].data, rows[r]);
        for (int64_t h = 0; h < heads; ++h) {
          const int64_t base = rows[r] * out.cols + h * s.dim;
          double* y = out.values.data() + r * size_t(out.cols) + size_t(h * s.dim);
          for (int i = 0; i < half; ++i) {
            const int ia = s.neox ? i : 2 * i, ib = s.neox ? i + half : 2 * i + 1;
            const double a = load_as_double(x.dtype, x.data, base + ia), b = load_as_double(x.dtype, x.data, base + ib);
            const double c = std::cos(pos * f[size_t(i)]), sn = std::sin(pos * f[size_t(i)]);
            y[ia] = a * c - b * sn;
            y[ib] = b * c + a * sn;
          }
        }
      }
    }
  }
};

}  // namespace

std::vector<double> inv_freq(double theta, int dim) {
  std::vector<double> f(size_t(dim / 2));
  for (int i = 0; i < dim / 2; ++i) f[size_t(i)] = std::pow(theta, -2.0 * i / dim);
  return f;
}

Shape Shape::from(const Problem& p) {
  Shape s;
  s.tokens = p.i64("tokens");
  s.heads_q = p.i64("heads_q");
  s.heads_k = p.i64("heads_k");
  s.dim = int(p.i64("dim"));
  s.dtype = p.dtype("dtype");
  s.neox = p.str("style") == "neox";
  s.theta = p.real("theta");
  return s;
}

std::unique_ptr<OpSpec> make_spec() { return std::make_unique<RopeSpec>(); }

}  // namespace tessel::rope
