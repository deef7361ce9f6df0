// The gemm op spec: descriptor schema, validity rules, double reference, work model and tolerance.
#include <algorithm>
#include <bit>
#include <cmath>
#include <string>
#include <vector>

#include "gemm.hpp"
#include "tessel/cpu/parallel.hpp"

namespace tessel::gemm {
namespace {

const std::vector<ParamDef>& schema() {
  using K = ParamDef::Kind;
  static const std::vector<ParamDef> defs = {
      {"m", K::integer, "", {}, 1, int64_t{1} << 20, "rows of A and C"},
      {"n", K::integer, "", {}, 1, int64_t{1} << 20, "columns of C"},
      {"k", K::integer, "", {}, 1, int64_t{1} << 20, "reduction length"},
      {"dtype", K::dtype, "f32", {"f32", "bf16", "e4m3"}, 1, 1, "element type of A and B"},
      {"out", K::choice, "auto", {"auto", "f32", "bf16"}, 1, 1,
       "element type of C, bias and residual (auto: f32 for f32 inputs, else bf16)"},
      {"b", K::choice, "kn", {"kn", "nk"}, 1, 1, "layout of B: [K,N] or [N,K] row-major"},
      {"act", K::choice, "none", {"none", "silu", "gelu"}, 1, 1, "activation after bias"},
      {"bias", K::boolean, "false", {}, 1, 1, "add bias[N]"},
      {"residual", K::boolean, "false", {}, 1, 1, "add residual[M,N] last"},
      {"scale", K::choice, "none", {"none", "tensor", "block"}, 1, 1,
       "fp8 scaling: per-tensor, or 1x128 (A) and 128x128 (B) blocks"},
      {"scale_layout", K::choice, "mk", {"mk", "km"}, 1, 1,
       "layout of block scale_a: [M, K/128] (mk) or [K/128, M] (km, a K block's row scales contiguous)"},
  };
  return defs;
}

class GemmSpec final : public OpSpec {
 public:
  std::string name() const override { return "gemm"; }
  std::string summary() const override {
    return "C = act(scale*(A.B) + bias) + residual, f32 accumulation";
  }
  const std::vector<ParamDef>& params() const override { return schema(); }

  Status validate(const Problem& p) const override {
    const Shape s = Shape::from(p);
    if (s.in == DType::f32 && s.out != DType::f32)
      return Status::invalid("gemm", "out", "f32 inputs produce f32 output (out=f32 or auto)");
    if (s.in == DType::e4m3 && s.scaling == Scaling::none)
      return Status::invalid("gemm", "scale", "e4m3 inputs need scale=tensor or scale=block");
    if (s.in != DType::e4m3 && s.scaling != Scaling::none)
      return Status::invalid("gemm", "scale", "scaling applies to dtype=e4m3 only");
    if (s.scale_layout == ScaleLayout::km && s.scaling != Scaling::block)
      return Status::invalid("gemm", "scale_layout", "scale_layout=km applies to scale=block only");
    // Keep the largest tensor addressable and the problem within what a harness can allocate.
    const double elems = double(s.m) * double(s.k) + double(s.n) * double(s.k) + double(s.m) * double(s.n);
    if (elems > double(int64_t{1} << 34))
      return Status::invalid("gemm", "m*k+n*k+m*n", "more than 2^34 elements in all");
    return {};
  }

  std::vector<TensorDesc> tensors(const Problem& p) const override {
    const Shape s = Shape::from(p);
    using R = TensorDesc::Role;
    std::vector<TensorDesc> t;
    t.push_back({"A", R::input, s.in, {s.m, s.k}});
    t.push_back({"B", R::input, s.in, s.b == BLayout::kn ? std::vector<int64_t>{s.k, s.n}
                                                        : std::vector<int64_t>{s.n, s.k}});
    if (s.bias) t.push_back({"bias", R::input, s.out, {s.n}});
    if (s.residual) t.push_back({"residual", R::input, s.out, {s.m, s.n}});
    if (s.scaling == Scaling::tensor) {
      t.push_back({"scale_a", R::input, DType::f32, {1}, 0.5, 0.5, true});
      t.push_back({"scale_b", R::input, DType::f32, {1}, 0.5, 0.5, true});
    } else if (s.scaling == Scaling::block) {
      t.push_back({"scale_a", R::input, DType::f32,
                   s.scale_layout == ScaleLayout::mk ? std::vector<int64_t>{s.m, s.k_blocks()}
                                                     : std::vector<int64_t>{s.k_blocks(), s.m},
                   0.5, 0.5, true});
      t.push_back({"scale_b", R::input, DType::f32, {s.n_blocks(), s.k_blocks()}, 0.5, 0.5, true});
    }
    t.push_back({"C", R::output, s.out, {s.m, s.n}});
    return t;
  }

  Work work(const Problem& p) const override {
    const Shape s = Shape::from(p);
    Work w;
    w.flops = 2.0 * double(s.m) * double(s.n) * double(s.k);
    for (const auto& t : tensors(p)) {
      double n = 1;
      for (auto d : t.shape) n *= double(d);
      w.min_bytes += double(dtype_storage_bytes(t.dtype, static_cast<int64_t>(n)));
    }
    // f32 operands run on the vector FMA units (no tensor-core tf32 here, no f32 dot product on the
    // CPU), so they are judged against the vector peak; bf16 and fp8 against the matrix peak.
    w.matrix_bound = s.in != DType::f32;
    if (s.in == DType::e4m3) w.matrix_rate = 2;
    return w;
  }

  Tolerance tolerance(const Problem& p) const override {
    const Shape s = Shape::from(p);
    // Inputs are exact in their dtype; the error comes from f32 accumulation over K and from rounding
    // C. f32 accumulation error grows about as sqrt(K) * 2^-24 in relative L2 for random signs.
    const double acc = 4.0 * std::sqrt(double(s.k)) * 0x1p-24 + 1e-7;
    const double out_round = s.out == DType::bf16 ? 0x1p-8 : 0x1p-24;
    Tolerance t;
    t.max_rel_l2 = 4 * acc + out_round;
    t.elem_rtol = 2 * out_round + 8 * acc;
    t.elem_atol = 64 * acc + 2 * out_round;
    if (s.scaling == Scaling::block) t.max_rel_l2 += 1e-6;  // scales are applied per block in f32
    return t;
  }

  std::vector<std::string> samples() const override {
    return {
        "gemm m=1 n=1 k=1",
        "gemm m=1 n=67 k=129",
        "gemm m=37 n=1 k=300",
        "gemm m=65 n=63 k=127",
        "gemm m=128 n=96 k=64 b=nk",
        "gemm m=33 n=130 k=257 bias=true act=silu residual=true",
        "gemm m=17 n=80 k=96 act=gelu b=nk",
        "gemm m=1 n=8 k=8 dtype=bf16",
        "gemm m=77 n=129 k=200 dtype=bf16",
        "gemm m=64 n=200 k=136 dtype=bf16 b=nk bias=true act=silu",
        "gemm m=31 n=64 k=257 dtype=bf16 out=f32 residual=true act=gelu",
        "gemm m=40 n=100 k=1101 dtype=bf16 b=nk out=f32",  // odd K over several K blocks, packed from [N,K]
        "gemm m=19 n=144 k=256 dtype=e4m3 scale=tensor",
        "gemm m=130 n=257 k=384 dtype=e4m3 scale=block b=nk",
        "gemm m=5 n=130 k=200 dtype=e4m3 scale=block",
        "gemm m=132 n=257 k=640 dtype=e4m3 scale=block scale_layout=km b=nk",
        "gemm m=7 n=130 k=304 dtype=e4m3 scale=block scale_layout=km b=nk",  // m % 4 != 0: km without TMA
    };
  }

  // Rows in parallel (a verify of a 4096-row LLM layer computes billions of double products per
  // trial), each row's K in order: the same sums whatever the thread count. B is walked along its
  // contiguous dimension: a dot product per output for b=nk, a row of partial sums for b=kn.
  void reference(const Problem& p, std::span<const TensorView> in, std::span<const int64_t> rows,
                 std::vector<RefOutput>& outs) const override {
    const Shape s = Shape::from(p);
    const TensorIndex ix = TensorIndex::of(s);
    auto at = [&](int index, int64_t i) { return load_as_double(in[size_t(index)].dtype, in[size_t(index)].data, i); };
    outs.assign(1, RefOutput{});
    RefOutput& c = outs[0];
    c.cols = s.n;
    c.rows.assign(rows.begin(), rows.end());
    c.values.assign(rows.size() * size_t(s.n), 0.0);
    // Without block scales, K is one block of scale 1 (per-tensor scales are applied at the end).
    const bool block = s.scaling == Scaling::block;
    const int64_t kblock = block ? kScaleBlock : std::max<int64_t>(s.k, 1);
    const int64_t kblocks = (s.k + kblock - 1) / kblock;
    const double tensor_scale = s.scaling == Scaling::tensor ? at(ix.scale_a, 0) * at(ix.scale_b, 0) : 1.0;
    with_decoder(in[size_t(ix.b)], [&](const auto& bat) {
    cpu::parallel_for(int64_t(rows.size()), 0, [&](int64_t r0, int64_t r1) {
      std::vector<double> arow(size_t(s.k)), acc(size_t(s.n)), part(size_t(s.n));
      for (int64_t r = r0; r < r1; ++r) {
        const int64_t i = rows[size_t(r)];
        for (int64_t kk = 0; kk < s.k; ++kk) arow[size_t(kk)] = at(ix.a, i * s.k + kk);
        std::fill(acc.begin(), acc.end(), 0.0);
        for (int64_t kb = 0; kb < kblocks; ++kb) {
          const int64_t k0 = kb * kblock, k1 = std::min(s.k, k0 + kblock);
          if (s.b == BLayout::nk) {
            for (int64_t j = 0; j < s.n; ++j) {
              double d = 0;
              for (int64_t kk = k0; kk < k1; ++kk) d += arow[size_t(kk)] * bat(j * s.k + kk);
              part[size_t(j)] = d;
            }
          } else {
            std::fill(part.begin(), part.end(), 0.0);
            for (int64_t kk = k0; kk < k1; ++kk) {
              const double a = arow[size_t(kk)];
              for (int64_t j = 0; j < s.n; ++j) part[size_t(j)] += a * bat(kk * s.n + j);
            }
          }
          // Each 128-long K block is scaled by its A-row block scale and B-tile scale.
          for (int64_t j = 0; j < s.n; ++j)
            acc[size_t(j)] += block ? part[size_t(j)] * at(ix.scale_a, s.scale_a_offset(i, kb)) *
                                          at(ix.scale_b, (j / kScaleBlock) * s.k_blocks() + kb)
                                    : part[size_t(j)];
        }
        for (int64_t j = 0; j < s.n; ++j) {
          double v = acc[size_t(j)] * tensor_scale;
          if (s.bias) v += at(ix.bias, j);
          v = apply_activation(s.act, v);
          if (s.residual) v += at(ix.residual, i * s.n + j);
          c.values[size_t(r) * size_t(s.n) + size_t(j)] = v;
        }
      }
    });
    });
  }

 private:
  // Calls f with B's element decoder, inlined for the dtypes B comes in (load_as_double's switch
  // per element was half of the reference's time).
  template <class F>
  static void with_decoder(const TensorView& t, F&& f) {
    if (t.dtype == DType::bf16) {
      const auto* q = static_cast<const uint16_t*>(t.data);
      f([q](int64_t i) { return double(std::bit_cast<float>(uint32_t(q[i]) << 16)); });
    } else if (t.dtype == DType::f32) {
      const auto* q = static_cast<const float*>(t.data);
      f([q](int64_t i) { return double(q[i]); });
    } else {
      f([&t](int64_t i) { return load_as_double(t.dtype, t.data, i); });
    }
  }
};

}  // namespace

Shape Shape::from(const Problem& p) {
  Shape s;
  s.m = p.i64("m");
  s.n = p.i64("n");
  s.k = p.i64("k");
  s.in = p.dtype("dtype");
  const std::string& out = p.str("out");
  s.out = out == "auto" ? (s.in == DType::f32 ? DType::f32 : DType::bf16) : *parse_dtype(out);
  s.b = p.str("b") == "nk" ? BLayout::nk : BLayout::kn;
  const std::string& act = p.str("act");
  s.act = act == "silu" ? Activation::silu : act == "gelu" ? Activation::gelu : Activation::none;
  s.bias = p.flag("bias");
  s.residual = p.flag("residual");
  const std::string& sc = p.str("scale");
  s.scaling = sc == "tensor" ? Scaling::tensor : sc == "block" ? Scaling::block : Scaling::none;
  s.scale_layout = p.str("scale_layout") == "km" ? ScaleLayout::km : ScaleLayout::mk;
  return s;
}

TensorIndex TensorIndex::of(const Shape& s) {
  TensorIndex t;
  int next = 2;
  if (s.bias) t.bias = next++;
  if (s.residual) t.residual = next++;
  if (s.scaling != Scaling::none) {
    t.scale_a = next++;
    t.scale_b = next++;
  }
  t.c = next;
  return t;
}

double apply_activation(Activation act, double x) {
  switch (act) {
    case Activation::silu: return x / (1.0 + std::exp(-x));
    case Activation::gelu: {
      const double c = std::sqrt(2.0 / M_PI);
      return 0.5 * x * (1.0 + std::tanh(c * (x + 0.044715 * x * x * x)));
    }
    case Activation::none: break;
  }
  return x;
}

std::unique_ptr<OpSpec> make_spec() { return std::make_unique<GemmSpec>(); }

}  // namespace tessel::gemm
