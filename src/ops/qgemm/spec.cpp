// The qgemm op spec: low-bit weights times f32/bf16 activations; schema, rules, reference, tolerance.
#include <cmath>
#include <stdexcept>
#include <string>

#include "qgemm.hpp"

namespace tessel::qgemm {
namespace {

const std::vector<ParamDef>& schema() {
  using K = ParamDef::Kind;
  static const std::vector<ParamDef> defs = {
      {"m", K::integer, "", {}, 1, int64_t{1} << 20, "rows of X and Y (tokens); m=1 is a GEMV"},
      {"n", K::integer, "", {}, 1, int64_t{1} << 20, "rows of W, columns of Y (output features)"},
      {"k", K::integer, "", {}, 1, int64_t{1} << 20, "reduction length (input features)"},
      {"wbits", K::choice, "auto", {"auto", "1", "2", "3", "4", "5", "6", "7", "8"}, 1, 1,
       "bits per weight code (auto: 4 for int/uint, 2 ternary, 4 mxfp4/nvfp4, 8 mxint8)"},
      {"format", K::choice, "int", {"int", "uint", "ternary", "ternary5", "mxfp4", "mxint8", "nvfp4"}, 1, 1,
       "weight format (docs/formats.md): int symmetric, uint with zero points, ternary (2 bits), ternary5 (five "
       "weights a byte), or a block format"},
      {"group", K::choice, "auto", {"auto", "16", "32", "64", "128", "256", "channel"}, 1, 1,
       "weights per scale along k (auto: 128 for int/uint/ternary/ternary5, 32 for MX, 16 for NVFP4)"},
      {"act", K::dtype, "f32", {"f32", "bf16"}, 1, 1, "element type of X"},
      {"sdtype", K::dtype, "f16", {"f16", "bf16", "f32"}, 1, 1,
       "scale and zero-point type of int/uint/ternary/ternary5 (block formats fix theirs)"},
  };
  return defs;
}

Result<quant::Format> format_of(const Problem& p) {
  const std::string& wb = p.str("wbits");
  const std::string& g = p.str("group");
  const int bits = wb == "auto" ? 0 : std::stoi(wb);
  const int64_t group = g == "auto" ? -1 : g == "channel" ? 0 : std::stoll(g);
  auto f = quant::make_format(p.str("format"), bits, group, p.dtype("sdtype"));
  if (!f.ok()) {
    // Name the descriptor's parameter, not the format library's.
    const std::string& param = f.status().param();
    const std::string name = param == "bits" ? "wbits" : param == "scale dtype" ? "sdtype" : param;
    return Status::invalid("qgemm", name, f.status().rule());
  }
  if (!f->tiled() && p.dtype("sdtype") != DType::f16)
    return Status::invalid("qgemm", "sdtype", p.str("format") + " fixes its scale type; sdtype applies to int, uint, ternary and ternary5");
  return f;
}

// Uniform random codes (what the harness draws) give E[v^2]; with the plane weights c_b this sets
// how much table rounding costs relative to the output (see tolerance()).
double lut_kappa(const quant::Format& f) {
  double sum_c2 = 0;
  for (int b = 0; b < f.bits; ++b) sum_c2 += std::ldexp(1.0, 2 * b);
  if (f.scheme == quant::Scheme::int_sym && f.bits == 1) sum_c2 = 4;  // v = 2q - 1
  if (f.scheme == quant::Scheme::ternary) sum_c2 = 2;                  // v = bit0 - bit1
  double ev2 = 0;
  const int codes = 1 << f.bits;
  for (int c = 0; c < codes; ++c) {
    double v = quant::code_value(f, uint8_t(c));
    if (f.scheme == quant::Scheme::int_asym) v -= (codes - 1) / 2.0;  // centred: the variance, a lower bound
    ev2 += v * v / codes;
  }
  return std::sqrt(sum_c2 / ev2);
}

// ternary5: E[d^2] of a weight when W's bytes are uniform (what the harness draws).
double trit_mean_square() {
  double sum = 0;
  for (int b = 0; b < 256; ++b)
    for (int8_t d : quant::trits_of(uint8_t(b)).d) sum += double(d * d);
  return sum / (256.0 * quant::kTritsPerByte);
}

class QGemmSpec final : public OpSpec {
 public:
  std::string name() const override { return "qgemm"; }
  std::string summary() const override {
    return "Y = X . dequant(W)^T, low-bit W (int1-8, uint1-8, ternary, ternary5, mxfp4, mxint8, nvfp4), f32 output";
  }
  const std::vector<ParamDef>& params() const override { return schema(); }

  Status validate(const Problem& p) const override {
    auto f = format_of(p);
    if (!f.ok()) return f.status();
    const double m = double(p.i64("m")), n = double(p.i64("n")), k = double(p.i64("k"));
    if (m * k + n * k + m * n > double(int64_t{1} << 34))
      return Status::invalid("qgemm", "m*k+n*k+m*n", "more than 2^34 elements in all");
    return {};
  }

  std::vector<TensorDesc> tensors(const Problem& p) const override {
    const Shape s = Shape::from(p);
    const quant::Shapes sh = quant::shapes(s.fmt, s.n, s.k);
    using R = TensorDesc::Role;
    std::vector<TensorDesc> t;
    t.push_back({"X", R::input, s.act, {s.m, s.k}});
    // Any byte is a valid code in every format, so W is random bytes spread over 0..255.
    t.push_back({"W", R::input, DType::u8, sh.weights, 128.0, 127.5});
    if (s.fmt.tiled()) {
      t.push_back({"scales", R::input, s.fmt.scale_dtype, sh.scales, 0.1});
      if (s.fmt.has_zeros()) {
        const double levels = std::ldexp(1.0, s.fmt.bits) - 1;
        t.push_back({"zeros", R::input, s.fmt.scale_dtype, sh.zeros, (levels + 1) / 4, levels / 2});
      }
    } else if (s.fmt.scheme == quant::Scheme::nvfp4) {
      // e4m3 has NaN codes (0x7f, 0xff); positive draws never produce them. 1 + 0.25 |z|: spread like
      // the MX exponents below (for the same reason), about 4 binades in the heavy tails.
      t.push_back({"scales", R::input, DType::e4m3, sh.scales, 0.25, 1.0, true});
      t.push_back({"global_scale", R::input, DType::f32, {1}, 0.5, 0.5, true});
    } else {
      // E8M0 exponents 127 + 0.1 z: scale 1 but for the heavy-tailed draws' outliers (2 to 5
      // binades), far from the NaN code 0xff. Spread like the other formats' scales (z itself, 20 to
      // 50 binades in the heavy tails) one block decides an output, and cpu.idot's int8 activations
      // then err elementwise by a block's cancelling dot, beyond any bound relative to the output's
      // RMS (docs/formats.md, "The qgemm op").
      t.push_back({"scales", R::input, DType::u8, sh.scales, 0.1, 127.0});
    }
    t.push_back({"Y", R::output, DType::f32, {s.m, s.n}});
    return t;
  }

  Work work(const Problem& p) const override {
    const Shape s = Shape::from(p);
    Work w;
    w.flops = 2.0 * double(s.m) * double(s.n) * double(s.k);
    for (const auto& t : tensors(p)) {
      double count = 1;
      for (auto d : t.shape) count *= double(d);
      w.min_bytes += double(dtype_storage_bytes(t.dtype, static_cast<int64_t>(count)));
    }
    w.matrix_bound = true;
    w.int8_bound = true;  // its kernels take int8 activations (dots, or lookups summed by vpdpbusd)
    return w;
  }

  Tolerance tolerance(const Problem& p) const override {
    const Shape s = Shape::from(p);
    // f32 accumulation over K (as for gemm) and f32 products of scales.
    const double acc = 4.0 * std::sqrt(double(s.k)) * 0x1p-24 + 1e-7;
    Tolerance t;
    t.max_rel_l2 = 4 * acc + 0x1p-22;
    t.elem_rtol = 8 * acc + 0x1p-22;
    t.elem_atol = 64 * acc;
    if (s.fmt.planar() && s.fmt.bits <= 4) {
      // Table lookup (cpu.lut) may quantize activations: every 32 of them become tables of the 16
      // partial sums of each 4 (T[p] = sum of x_i over the set bits of p), rounded to int8 with one
      // step d = max|T| / 127 per 32. A lookup errs by at most d/2 (variance d^2/12); an output sums
      // 8 lookups per plane b per 32, weighted by the plane's value c_b. Since max|T| <= 4 max|x| and
      // each block's max|x|^2 is part of sum x^2, the relative L2 error is at most
      //   sqrt(16 * 8 / 12) / 127 * sqrt(sum_b c_b^2 / E[v^2])   (kappa = the last root, ~2)
      // for the harness's uniform random codes: about 5%. Typical data sits 3-5x below this bound.
      // Elementwise, heavy-tailed draws break it as for cpu.idot below, and worse: an outlier
      // activation (20-50x) coarsens the step of its block's tables, and when the same group of
      // a row also drew an outlier scale the row's error is that coarse step times a 40x scale.
      // Measured (heavy-tailed seed 1000009, "qgemm m=1 n=576 k=704 format=ternary group=64",
      // row 549: group 4 has max|x| 42.5 and scale -4.0 against ~0.1): that one output errs by
      // 21% of the output RMS (3.77 of 17.8) at a relative L2 of 1.4%; with the row scale 4.2 of
      // "qgemm m=1 n=777 k=260 wbits=1 group=channel" (row 589), 38% at 1.8%. The model above expects it:
      // the outlier's block has a table step of about 0.35 instead of 0.08, so its 16 lookups err
      // by about 0.4 (in units of x), 1.6 after the scale, and the worst of 576 rows drew 2.3x
      // that. So, as there, the L2 bound is the precise check and the elementwise one 10x looser.
      const double bound = std::sqrt(16.0 * 8.0 / 12.0) / 127.0 * lut_kappa(s.fmt);
      t.max_rel_l2 = bound;
      t.elem_rtol = 2 * bound;
      t.elem_atol = 10 * bound;
    } else if (s.fmt.scheme == quant::Scheme::ternary5) {
      // cpu.lut's ternary5 tables on AVX3_DL: per run of five activations the 128 sums T[e] =
      // sum_i d_i(e) x_i, rounded to int8 with one step d = max|T| / 127 per block of 32 runs (160
      // activations). A lookup errs by at most d/2 (variance d^2/12). max|T| over a run is sum|x_i|,
      // whose square is at most 5 sum x_i^2 (Cauchy-Schwarz), so a block's d^2 <= 5 * (its sum x^2)
      // / 127^2 and its 32 lookups add at most 32 * 5 / 12 / 127^2 of that sum to the error's energy.
      // The output's is sum x^2 * E[d^2] (0.65 for random bytes), so the relative L2 error is at most
      //   sqrt(160 / 12 / E[d^2]) / 127 (about 3.6%).
      // Below AVX3_DL a run takes two lookups (two and three weights), each rounded, with the step
      // max|T| / 126 (so their int8 sum cannot wrap): twice the variance, a bound of
      //   sqrt(2 * 160 / 12 / E[d^2]) / 126 (about 5.1%),
      // which is the one checked, whichever kernel runs.
      // The elementwise checks are looser by the same factors as for the bit planes (above).
      const double bound = std::sqrt(2.0 * 32.0 * 5.0 / 12.0 / trit_mean_square()) / 126.0;
      t.max_rel_l2 = bound;
      t.elem_rtol = 2 * bound;
      t.elem_atol = 10 * bound;
    } else if (s.fmt.planar() || s.fmt.scheme == quant::Scheme::mxfp4 || s.fmt.scheme == quant::Scheme::mxint8 ||
               s.fmt.scheme == quant::Scheme::nvfp4) {
      // The integer-dot route (cpu.idot: 5..8-bit codes, and the block formats, whose blocks of 32
      // are the activations' own; nvfp4's two halves of one are dotted apart) quantizes activations
      // to int8: every 32 of a row with one
      // step d = max|x| / 127, each rounded to nearest, so each errs by at most d/2 (variance
      // d^2/12). An output sums 32 such errors per block, each times a weight; since a block's
      // max|x|^2 is part of its sum x^2, the error's energy is at most 32/12/127^2 of the output's,
      // a relative L2 of sqrt(32/12)/127 = 1.3%. cpu.idot multiplies the errors by centred codes
      // (u - 2^(b-1)), so for uniform codes this holds as is; the factor 2 leaves room for skewed ones. Gaussian rows sit about 3x
      // below (0.5%: max|x| ~ 2.1 sigma per 32). Elementwise the error is not Gaussian when 1% of
      // the activations are 20-50x outliers (the harness's heavy-tailed draws): a block with one
      // quantizes its other 31 values with its coarse step, and single outputs err by far more
      // than the L2 error: 19% of the output RMS at a relative L2 of 1.2% with a few hundred outputs,
      // and the worst of more outputs further out (session 24, heavy-tailed seeds 1000008 and
      // 1000009: "qgemm m=301 n=200 k=300 wbits=5 group=64" Y[2, 121] 225.5 against 171.5, and
      // "qgemm m=256 n=256 k=256 wbits=5 group=64" Y[231, 92] 222.9 against 283.2, each at a
      // relative L2 of 1.2%, about 30% of the output RMS). So the L2 bound is the precise check and
      // the elementwise one 20x looser: 52% of the output RMS, about what the lookups above allow
      // (10x their larger bound) for the same per-32 activation rounding (a swapped row, a wrong
      // group scale or the low plane of a 5-bit code still fail the L2 check). 5..8-bit and block-format
      // cpu.dequant stays f32-accurate, far inside.
      const double bound = 2 * std::sqrt(32.0 / 12.0) / 127.0;
      t.max_rel_l2 = bound;
      t.elem_rtol = 2 * bound;
      t.elem_atol = 20 * bound;
    }
    return t;
  }

  std::vector<std::string> samples() const override {
    // Small enough for CI under ASan. Tails everywhere: n not a multiple of the 64-row tile, k not
    // a multiple of 8 (a planar byte), of 32 (a LUT block) or of the group, m past the row blocks.
    return {
        "qgemm m=1 n=1 k=1",
        "qgemm m=1 n=64 k=128",
        "qgemm m=3 n=67 k=203 wbits=2 group=64",
        "qgemm m=1 n=130 k=100 wbits=3 group=32",
        "qgemm m=2 n=65 k=77 wbits=1 group=channel",
        "qgemm m=5 n=64 k=256 format=ternary act=bf16",
        "qgemm m=4 n=96 k=160 format=uint group=32 sdtype=bf16",
        "qgemm m=1 n=33 k=96 wbits=2 format=uint sdtype=f32",
        "qgemm m=2 n=64 k=64 wbits=3 format=uint group=channel",
        "qgemm m=1 n=70 k=96 wbits=1 format=uint group=32",
        "qgemm m=11 n=80 k=131 group=64 act=bf16",
        "qgemm m=9 n=64 k=64 format=ternary group=32",
        // f32 rows of X that start off a 64-byte line (k = 300) and 2-bit row lanes (m >= 16): cpu.lut
        // builds the first 256 columns' tables from X in place (unaligned loads), the rest from a copy.
        "qgemm m=17 n=64 k=300 wbits=2 group=channel",
        // ternary5: runs of five restart at every group (k = 203: a short last run and group), m past
        // the 4-row blocks, 140 runs a row (several table steps), and the two-tile GEMV (n = 520).
        "qgemm m=1 n=70 k=203 format=ternary5 group=channel",
        "qgemm m=6 n=64 k=100 format=ternary5 group=32 act=bf16",
        "qgemm m=2 n=130 k=700 format=ternary5 group=channel sdtype=bf16",
        "qgemm m=1 n=520 k=170 format=ternary5 group=64",
        "qgemm m=3 n=70 k=150 wbits=5 group=32",
        "qgemm m=1 n=64 k=256 wbits=6",
        "qgemm m=2 n=40 k=100 wbits=7 format=uint group=64",
        "qgemm m=6 n=66 k=300 wbits=8 group=channel act=bf16",
        // cpu.idot's three-row sweeps over spans of two blocks, a row left over, and enough outputs
        // for a heavy-tailed draw's worst element (the tolerance above).
        "qgemm m=256 n=256 k=256 wbits=5 group=64",
        "qgemm m=2 n=33 k=101 format=mxfp4",
        "qgemm m=3 n=40 k=96 format=mxint8 act=bf16",
        "qgemm m=1 n=50 k=77 format=nvfp4",
        "qgemm m=7 n=20 k=64 format=nvfp4 act=bf16",
    };
  }

  void reference(const Problem& p, std::span<const TensorView> in, std::span<const int64_t> rows,
                 std::vector<RefOutput>& outs) const override {
    const Shape s = Shape::from(p);
    const TensorIndex ix = TensorIndex::of(s);
    quant::PackedView pv;
    pv.weights = in[size_t(ix.w)].ptr<const uint8_t>();
    pv.scales = in[size_t(ix.scales)].data;
    if (ix.zeros >= 0) pv.zeros = in[size_t(ix.zeros)].data;
    if (ix.global_scale >= 0) pv.global_scale = load_as_double(DType::f32, in[size_t(ix.global_scale)].data, 0);
    outs.assign(1, RefOutput{});
    RefOutput& y = outs[0];
    y.cols = s.n;
    y.rows.assign(rows.begin(), rows.end());
    y.values.assign(rows.size() * size_t(s.n), 0.0);
    std::vector<double> x(rows.size() * size_t(s.k));
    for (size_t r = 0; r < rows.size(); ++r)
      for (int64_t kk = 0; kk < s.k; ++kk)
        x[r * size_t(s.k) + size_t(kk)] = load_as_double(s.act, in[size_t(ix.x)].data, rows[r] * s.k + kk);
    std::vector<double> w(static_cast<size_t>(s.k));
    for (int64_t j = 0; j < s.n; ++j) {
      quant::dequantize_row(s.fmt, s.n, s.k, pv, j, w.data());
      for (size_t r = 0; r < rows.size(); ++r) {
        const double* xr = &x[r * size_t(s.k)];
        double acc = 0;
        for (int64_t kk = 0; kk < s.k; ++kk) acc += xr[kk] * w[size_t(kk)];
        y.values[r * size_t(s.n) + size_t(j)] = acc;
      }
    }
  }
};

}  // namespace

Shape Shape::from(const Problem& p) {
  Shape s;
  s.m = p.i64("m");
  s.n = p.i64("n");
  s.k = p.i64("k");
  s.act = p.dtype("act");
  auto f = format_of(p);
  if (!f.ok()) throw std::logic_error("qgemm: Shape::from on an invalid problem: " + f.status().message());
  s.fmt = *f;
  return s;
}

TensorIndex TensorIndex::of(const Shape& s) {
  TensorIndex t;
  int next = 3;
  if (s.fmt.has_zeros()) t.zeros = next++;
  if (s.fmt.has_global_scale()) t.global_scale = next++;
  t.y = next;
  return t;
}

std::unique_ptr<OpSpec> make_spec() { return std::make_unique<QGemmSpec>(); }

}  // namespace tessel::qgemm
