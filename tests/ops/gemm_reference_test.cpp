// The gemm spec's double reference against a plain triple loop written here: per-tensor and
// 1x128 / 128x128 block scales (K and N crossing block edges), both B layouts, bias, activation and
// residual. Every sample's verify compares implementations to this reference, so the reference
// itself needs a check that does not go through it; its rows are computed in parallel and with B
// decoded inline, which this also covers (many rows, odd sizes).
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "tessel/core/dtype.hpp"
#include "tessel/runtime/registry.hpp"

namespace tessel {
namespace {

struct Inputs {
  std::map<std::string, std::vector<unsigned char>> bytes;
  std::map<std::string, TensorView> views;
  std::vector<TensorView> ordered;  // tensors()'s inputs, in order
};

// Small exact values: multiples of 1/8 in [-2, 2] for A and B (exact in e4m3 and bf16), powers of
// two for scales, so every product is exact and the expected sums differ from the reference's only
// by the order of additions.
Inputs make_inputs(const std::vector<TensorDesc>& descs) {
  Inputs in;
  int seed = 1;
  for (const TensorDesc& d : descs) {
    if (d.role != TensorDesc::Role::input) continue;
    int64_t n = 1;
    for (int64_t x : d.shape) n *= x;
    auto& buf = in.bytes[d.name];
    buf.assign(dtype_storage_bytes(d.dtype, n) + 8, 0);
    for (int64_t i = 0; i < n; ++i) {
      const int h = int((i * 2654435761u + uint32_t(seed) * 40503u) % 33u);  // 0..32
      const double v = d.positive ? std::ldexp(1.0, h % 5 - 2) : double(h - 16) / 8.0;
      store_from_double(d.dtype, buf.data(), i, v);
    }
    TensorView v;
    v.data = buf.data();
    v.dtype = d.dtype;
    v.shape = d.shape;
    v.strides = contiguous_strides(d.shape);
    in.views[d.name] = v;
    in.ordered.push_back(v);
    ++seed;
  }
  return in;
}

double act(const std::string& a, double x) {
  if (a == "silu") return x / (1 + std::exp(-x));
  if (a == "gelu") return 0.5 * x * (1 + std::tanh(std::sqrt(2 / M_PI) * (x + 0.044715 * x * x * x)));  // the tanh form
  return x;
}

void check(const std::string& desc) {
  const Registry& reg = Registry::global();
  auto p = reg.parse(desc);
  ASSERT_TRUE(p.ok()) << desc;
  const OpSpec& spec = *reg.spec("gemm");
  Inputs in = make_inputs(spec.tensors(*p));
  const int64_t m = p->i64("m"), n = p->i64("n"), k = p->i64("k");
  const bool nk = p->str("b") == "nk";
  const std::string scale = p->str("scale");
  const bool km = p->str("scale_layout") == "km";
  std::vector<int64_t> rows;
  for (int64_t i = 0; i < m; ++i) rows.push_back(i);
  std::vector<RefOutput> out;
  spec.reference(*p, in.ordered, rows, out);
  ASSERT_EQ(out.size(), 1u);
  ASSERT_EQ(out[0].values.size(), size_t(m * n));
  auto at = [&](const char* name, int64_t i) {
    const TensorView& v = in.views.at(name);
    return load_as_double(v.dtype, v.data, i);
  };
  const int64_t kb_count = (k + 127) / 128;
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      double want = 0;
      for (int64_t kk = 0; kk < k; ++kk) {
        double term = at("A", i * k + kk) * at("B", nk ? j * k + kk : kk * n + j);
        const int64_t sa = km ? (kk / 128) * m + i : i * kb_count + kk / 128;
        if (scale == "block") term *= at("scale_a", sa) * at("scale_b", (j / 128) * kb_count + kk / 128);
        want += term;
      }
      if (scale == "tensor") want *= at("scale_a", 0) * at("scale_b", 0);
      if (p->flag("bias")) want += at("bias", j);
      want = act(p->str("act"), want);
      if (p->flag("residual")) want += at("residual", i * n + j);
      const double got = out[0].values[size_t(i * n + j)];
      ASSERT_NEAR(got, want, 1e-12 * (1 + std::fabs(want))) << desc << " at " << i << "," << j;
    }
}

TEST(GemmReference, MatchesAPlainLoop) {
  for (const char* d : {"gemm m=3 n=130 k=260 dtype=e4m3 scale=block b=nk", "gemm m=2 n=257 k=129 dtype=e4m3 scale=block b=nk",
                        "gemm m=3 n=130 k=260 dtype=e4m3 scale=block scale_layout=km b=nk",
                        "gemm m=6 n=9 k=300 dtype=e4m3 scale=block scale_layout=km",
                        "gemm m=4 n=5 k=7 dtype=e4m3 scale=tensor b=nk", "gemm m=37 n=6 k=5 dtype=bf16 bias=true act=silu residual=true",
                        "gemm m=5 n=33 k=17 dtype=bf16 b=nk act=gelu", "gemm m=9 n=8 k=300"})
    check(d);
}

// The km layout transposes block scale_a ([k_blocks, m]); it means nothing without block scales.
TEST(GemmSpec, ScaleLayoutKmIsForBlockScalesOnly) {
  const Registry& reg = Registry::global();
  auto p = reg.parse("gemm m=4 n=4 k=256 dtype=e4m3 scale=block scale_layout=km");
  ASSERT_TRUE(p.ok());
  const std::vector<TensorDesc> t = reg.spec("gemm")->tensors(*p);
  ASSERT_EQ(t[2].name, "scale_a");
  EXPECT_EQ(t[2].shape, (std::vector<int64_t>{2, 4}));
  auto bad = reg.parse("gemm m=4 n=4 k=256 dtype=e4m3 scale=tensor scale_layout=km");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("scale_layout=km applies to scale=block only"), std::string::npos)
      << bad.status().message();
}

}  // namespace
}  // namespace tessel
