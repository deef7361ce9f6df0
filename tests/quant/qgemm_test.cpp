// qgemm: every implementation on every Highway target this CPU has (AVX2 included, forced with
// hwy::SetSupportedTargetsForTest), broken kernels the spec's tolerance must reject, real quantized
// weights against f32, and the descriptor rules.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>

#include "qgemm/qgemm.hpp"
#include "qgemm_test_util.hpp"
#include "tessel/quant/quantize.hpp"
#include "tessel/runtime/harness.hpp"
#include "tessel/runtime/registry.hpp"

namespace tessel::qgemm {
namespace {

using namespace test;

// A representative slice of the sample matrix: every LUT code path (1 to 4 planes, uint, ternary,
// row blocks with and without remainders) and every dequantization path.
const char* kPerTarget[] = {
    "qgemm m=3 n=67 k=203 wbits=2 group=64",
    "qgemm m=1 n=130 k=100 wbits=3 group=32",
    "qgemm m=2 n=65 k=77 wbits=1 group=channel",
    "qgemm m=5 n=64 k=256 format=ternary act=bf16",
    "qgemm m=4 n=96 k=160 format=uint group=32 sdtype=bf16",
    "qgemm m=9 n=70 k=72 wbits=4 group=32",
    "qgemm m=2 n=40 k=100 wbits=7 format=uint group=64",
    "qgemm m=2 n=33 k=101 format=mxfp4",
    "qgemm m=3 n=40 k=96 format=mxint8 act=bf16",
    "qgemm m=7 n=20 k=64 format=nvfp4 act=bf16",
};

TEST(QGemmTargets, EveryImplementationPassesOnEveryTarget) {
  bool ran_avx2 = false;
  for (int64_t target : hwy::SupportedAndGeneratedTargets()) {
    ForcedTarget forced(target);
    ASSERT_STREQ(lut_target_name(), hwy::TargetName(target));
    ASSERT_STREQ(dequant_target_name(), hwy::TargetName(target));
    ran_avx2 |= target == HWY_AVX2;
    for (const char* d : kPerTarget) {
      for (const char* name : {"cpu.lut", "cpu.dequant"}) {
        const Problem p = parse(d);
        if (!impl(name).supports(p).ok) continue;
        const VerifyResult r = verify(spec(), impl(name), p);
        EXPECT_EQ(r.verdict, Verdict::passed) << hwy::TargetName(target) << " " << name << " " << d << ": " << r.reason;
      }
    }
  }
  if (hwy::SupportedTargets() & HWY_AVX2) {
    EXPECT_TRUE(ran_avx2) << "the AVX2 path must be tested where the CPU has it";
  }
}

// Chunking rows of X and splitting work over threads change nothing, bit for bit: each output is
// computed by one thread, in one order. (verify runs with the defaults; this reaches the other paths:
// several table chunks, row blocks with remainders, tiles split by rows of X.)
TEST(QGemmTargets, ChunksAndThreadsGiveIdenticalResults) {
  std::mt19937 rng(3);
  for (const char* d : {"qgemm m=37 n=64 k=100 wbits=3 group=32", "qgemm m=21 n=130 k=64 format=uint wbits=4 group=32",
                        "qgemm m=19 n=70 k=96 format=ternary", "qgemm m=13 n=65 k=72 wbits=6 format=uint group=64",
                        "qgemm m=11 n=33 k=101 format=mxfp4", "qgemm m=10 n=20 k=64 format=nvfp4",
                        // cpu.amx's blocks: two of rows (512 + 18), three of K (512, 512, 96).
                        "qgemm m=530 n=100 k=1100 wbits=2 group=64"}) {
    const Problem p = parse(d);
    const auto descs = spec().tensors(p);
    std::vector<std::vector<uint8_t>> bufs;
    std::vector<TensorView> t;
    for (const auto& td : descs) {
      int64_t count = 1;
      for (auto v : td.shape) count *= v;
      bufs.emplace_back(dtype_storage_bytes(td.dtype, count));
      auto& b = bufs.back();
      if (td.role == TensorDesc::Role::input) {
        for (int64_t i = 0; i < count; ++i) {
          const double v = std::normal_distribution<double>(0, 1)(rng);
          store_from_double(td.dtype, b.data(), i, td.offset + td.scale * (td.positive ? std::fabs(v) : v));
        }
      }
    }
    for (size_t i = 0; i < descs.size(); ++i)
      t.push_back({bufs[i].data(), descs[i].dtype, descs[i].shape, contiguous_strides(descs[i].shape)});
    float* y = t.back().ptr<float>();
    const int64_t ny = int64_t(bufs.back().size() / sizeof(float));
    for (const char* name : {"cpu.lut", "cpu.dequant", "cpu.idot", "cpu.amx"}) {
      if (!impl(name).supports(p).ok) continue;
      ASSERT_TRUE(impl(name).run(p, {}, t, RunContext{nullptr, 1}).ok());
      const std::vector<float> base(y, y + ny);
      for (int64_t chunk : {1, 3, 4, 8, 256})
        for (int threads : {1, 2, 3}) {
          std::fill(y, y + ny, NAN);
          ASSERT_TRUE(impl(name).run(p, {{"chunk", chunk}}, t, RunContext{nullptr, threads}).ok());
          ASSERT_EQ(std::memcmp(y, base.data(), size_t(ny) * sizeof(float)), 0)
              << name << " " << d << " chunk=" << chunk << " threads=" << threads;
        }
    }
  }
}

// ---- Broken kernels: the tolerance is tight enough to catch them ---------------------------------------

enum class Mutation { drop_plane0, swap_rows, ignore_zeros, shift_groups, noise_3x_tolerance, flip_block_sign };

// Runs a real implementation on a damaged copy of its inputs (or damages its output): what a kernel
// with that bug would compute.
class Mutant final : public Implementation {
 public:
  Mutant(const Implementation& inner, Mutation m) : inner_(inner), m_(m) {}
  std::string name() const override { return "mutant"; }
  std::string op() const override { return "qgemm"; }
  Device device() const override { return Device::cpu; }
  Support supports(const Problem& p) const override { return inner_.supports(p); }
  Status run(const Problem& p, const Config& c, std::span<const TensorView> t, const RunContext& ctx) const override {
    const Shape s = Shape::from(p);
    const TensorIndex ix = TensorIndex::of(s);
    std::vector<TensorView> v(t.begin(), t.end());
    std::vector<uint8_t> w(t[size_t(ix.w)].ptr<uint8_t>(), t[size_t(ix.w)].ptr<uint8_t>() + quant::shapes(s.fmt, s.n, s.k).weight_bytes);
    const quant::Shapes sh = quant::shapes(s.fmt, s.n, s.k);
    std::vector<uint8_t> scales(dtype_storage_bytes(s.fmt.scale_dtype, sh.scale_count)), zeros;
    std::memcpy(scales.data(), t[size_t(ix.scales)].data, scales.size());
    switch (m_) {
      case Mutation::drop_plane0:
        for (int64_t r = 0; r < s.n; ++r)
          for (int64_t k = 0; k < s.k; ++k)
            quant::set_code(s.fmt, s.n, s.k, w.data(), r, k, uint8_t(quant::get_code(s.fmt, s.n, s.k, w.data(), r, k) & ~1u));
        break;
      case Mutation::swap_rows:
        for (int64_t k = 0; k < s.k; ++k) {
          const uint8_t a = quant::get_code(s.fmt, s.n, s.k, w.data(), 0, k), b = quant::get_code(s.fmt, s.n, s.k, w.data(), 1, k);
          quant::set_code(s.fmt, s.n, s.k, w.data(), 0, k, b);
          quant::set_code(s.fmt, s.n, s.k, w.data(), 1, k, a);
        }
        break;
      case Mutation::ignore_zeros:
        zeros.assign(dtype_storage_bytes(s.fmt.scale_dtype, sh.zero_count), 0);
        v[size_t(ix.zeros)].data = zeros.data();
        break;
      case Mutation::shift_groups: {
        // Every row uses the scale of its next group (the last keeps its own).
        std::vector<uint8_t> orig = scales;
        const size_t es = dtype_storage_bytes(s.fmt.scale_dtype, 1);
        for (int64_t r = 0; r < s.n; ++r)
          for (int64_t g = 0; g + 1 < s.fmt.groups(s.k); ++g)
            std::memcpy(&scales[size_t(quant::scale_index(s.fmt, s.k, r, g)) * es],
                        &orig[size_t(quant::scale_index(s.fmt, s.k, r, g + 1)) * es], es);
        break;
      }
      case Mutation::flip_block_sign:
        for (int64_t r = 0; r < s.n; ++r) quant::set_code(s.fmt, s.n, s.k, w.data(), r, 0, uint8_t(quant::get_code(s.fmt, s.n, s.k, w.data(), r, 0) ^ 8u));
        break;
      case Mutation::noise_3x_tolerance: break;
    }
    v[size_t(ix.w)].data = w.data();
    v[size_t(ix.scales)].data = scales.data();
    TESSEL_RETURN_IF_ERROR(inner_.run(p, c, v, ctx));
    if (m_ == Mutation::noise_3x_tolerance) {
      // Relative noise three times the allowed L2 error, spread evenly: a precision bug.
      const double tol = spec().tolerance(p).max_rel_l2;
      float* y = t[size_t(ix.y)].ptr<float>();
      double ss = 0;
      for (int64_t i = 0; i < s.m * s.n; ++i) ss += double(y[i]) * y[i];
      const double rms = std::sqrt(ss / double(s.m * s.n));
      std::mt19937 rng(unsigned(s.m * s.n));
      std::normal_distribution<double> nd(0.0, 3 * tol * rms);
      for (int64_t i = 0; i < s.m * s.n; ++i) y[i] = float(y[i] + nd(rng));
    }
    return {};
  }

 private:
  const Implementation& inner_;
  Mutation m_;
};

struct MutantCase {
  const char* impl;
  const char* problem;
  Mutation m;
  const char* what;
};

void PrintTo(const MutantCase& c, std::ostream* os) { *os << c.what; }

class RejectsBrokenQGemm : public ::testing::TestWithParam<MutantCase> {};

TEST_P(RejectsBrokenQGemm, WithWrongValues) {
  const MutantCase& c = GetParam();
  const Problem p = parse(c.problem);
  const Mutant bad(impl(c.impl), c.m);
  const VerifyResult r = verify(spec(), bad, p);
  EXPECT_EQ(r.verdict, Verdict::failed) << c.what << " on " << c.problem << " passed with rel_l2 " << r.worst_rel_l2;
  EXPECT_EQ(r.failure, FailureKind::wrong_values) << r.reason;
}

INSTANTIATE_TEST_SUITE_P(
    Tolerance, RejectsBrokenQGemm,
    ::testing::Values(
        MutantCase{"cpu.lut", "qgemm m=2 n=64 k=128 wbits=4", Mutation::drop_plane0, "lut_int4_drop_plane0"},
        MutantCase{"cpu.lut", "qgemm m=2 n=64 k=128 wbits=2 format=uint", Mutation::drop_plane0, "lut_uint2_drop_plane0"},
        MutantCase{"cpu.lut", "qgemm m=2 n=70 k=96 format=ternary", Mutation::swap_rows, "lut_ternary_swap_rows"},
        MutantCase{"cpu.lut", "qgemm m=2 n=64 k=128 wbits=3 format=uint group=32", Mutation::ignore_zeros, "lut_ignore_zeros"},
        MutantCase{"cpu.lut", "qgemm m=2 n=64 k=128 wbits=4 group=32", Mutation::shift_groups, "lut_shift_groups"},
        MutantCase{"cpu.lut", "qgemm m=3 n=64 k=256 wbits=2", Mutation::noise_3x_tolerance, "lut_noise"},
        // 5 bits, not 8: an 8-bit code's lowest plane is worth less (~1% of the output) than the
        // int8 activation rounding the 5..8-bit tolerance allows for cpu.idot.
        MutantCase{"cpu.dequant", "qgemm m=2 n=64 k=128 wbits=5", Mutation::drop_plane0, "dequant_int5_drop_plane0"},
        MutantCase{"cpu.dequant", "qgemm m=2 n=64 k=96 wbits=6 format=uint", Mutation::ignore_zeros, "dequant_ignore_zeros"},
        MutantCase{"cpu.dequant", "qgemm m=2 n=40 k=96 format=mxfp4", Mutation::flip_block_sign, "dequant_mxfp4_sign"},
        MutantCase{"cpu.dequant", "qgemm m=2 n=40 k=96 format=nvfp4", Mutation::shift_groups, "dequant_nvfp4_shift"},
        MutantCase{"cpu.dequant", "qgemm m=2 n=40 k=96 format=mxint8", Mutation::noise_3x_tolerance, "dequant_noise"},
        MutantCase{"cpu.idot", "qgemm m=2 n=64 k=128 wbits=5", Mutation::drop_plane0, "idot_int5_drop_plane0"},
        MutantCase{"cpu.idot", "qgemm m=5 n=64 k=96 wbits=6 format=uint", Mutation::ignore_zeros, "idot_ignore_zeros"},
        MutantCase{"cpu.idot", "qgemm m=2 n=70 k=128 wbits=7 group=32", Mutation::swap_rows, "idot_swap_rows"},
        MutantCase{"cpu.idot", "qgemm m=2 n=64 k=128 wbits=8 group=32", Mutation::shift_groups, "idot_shift_groups"},
        MutantCase{"cpu.idot", "qgemm m=3 n=64 k=256 wbits=8", Mutation::noise_3x_tolerance, "idot_noise"},
        MutantCase{"cpu.idot", "qgemm m=2 n=40 k=96 format=mxfp4", Mutation::flip_block_sign, "idot_mxfp4_sign"},
        MutantCase{"cpu.idot", "qgemm m=2 n=70 k=128 format=mxint8", Mutation::swap_rows, "idot_mxint8_swap_rows"},
        MutantCase{"cpu.idot", "qgemm m=2 n=64 k=256 format=mxfp4", Mutation::shift_groups, "idot_mxfp4_shift"},
        // nvfp4's scales are per 16: the next half's scale (shift) or a flipped sign in every row.
        MutantCase{"cpu.idot", "qgemm m=2 n=64 k=256 format=nvfp4", Mutation::shift_groups, "idot_nvfp4_shift"},
        MutantCase{"cpu.idot", "qgemm m=2 n=40 k=96 format=nvfp4", Mutation::flip_block_sign, "idot_nvfp4_sign"}),
    [](const auto& tp) { return std::string(tp.param.what); });

// ---- Real weights -------------------------------------------------------------------------------------------

// Y for quantized Gaussian weights, through the registry, against the double reference and f32.
TEST(QGemmRealWeights, LutAndDequantAgreeWithTheReference) {
  const int64_t m = 3, n = 130, k = 300;
  std::mt19937 rng(11);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  std::vector<float> w(static_cast<size_t>(n * k)), x(size_t(m * k));
  for (auto& v : w) v = 0.02f * nd(rng);
  for (auto& v : x) v = nd(rng);
  for (const char* d : {"qgemm m=3 n=130 k=300 wbits=4 group=64", "qgemm m=3 n=130 k=300 wbits=2 format=uint group=32",
                        "qgemm m=3 n=130 k=300 format=ternary group=128", "qgemm m=3 n=130 k=300 wbits=6 group=channel",
                        "qgemm m=3 n=130 k=300 wbits=8 group=128", "qgemm m=3 n=130 k=300 wbits=5 format=uint group=32",
                        "qgemm m=3 n=130 k=300 format=nvfp4", "qgemm m=3 n=130 k=300 format=mxfp4",
                        "qgemm m=3 n=130 k=300 format=mxint8"}) {
    const Problem p = parse(d);
    const Shape s = Shape::from(p);
    quant::QuantReport rep;
    auto q = quant::quantize(s.fmt, w.data(), n, k, &rep);
    ASSERT_TRUE(q.ok());
    const TensorIndex ix = TensorIndex::of(s);
    std::vector<float> y(static_cast<size_t>(m * n));
    std::vector<TensorView> t(size_t(ix.y) + 1);
    t[size_t(ix.x)] = {x.data(), DType::f32, {m, k}, {k, 1}};
    t[size_t(ix.w)] = {const_cast<uint8_t*>(q->weights.data()), DType::u8, {int64_t(q->weights.size())}, {1}};
    const quant::Shapes sh = quant::shapes(s.fmt, n, k);
    t[size_t(ix.scales)] = {const_cast<uint8_t*>(q->scales.data()), s.fmt.scale_dtype, {sh.scale_count}, {1}};
    if (ix.zeros >= 0) t[size_t(ix.zeros)] = {const_cast<uint8_t*>(q->zeros.data()), s.fmt.scale_dtype, {sh.zero_count}, {1}};
    float gs = q->global_scale;
    if (ix.global_scale >= 0) t[size_t(ix.global_scale)] = {&gs, DType::f32, {1}, {1}};
    t[size_t(ix.y)] = {y.data(), DType::f32, {m, n}, {n, 1}};
    const auto dq = quant::dequantize(*q);
    for (const char* name : {"cpu.lut", "cpu.dequant", "cpu.idot", "cpu.amx"}) {
      if (!impl(name).supports(p).ok) continue;
      ASSERT_TRUE(impl(name).run(p, {}, t, {}).ok());
      double se = 0, ss = 0, se_f32 = 0, ss_f32 = 0;
      for (int64_t i = 0; i < m; ++i)
        for (int64_t j = 0; j < n; ++j) {
          double ref = 0, exact = 0;
          for (int64_t kk = 0; kk < k; ++kk) {
            ref += double(x[size_t(i * k + kk)]) * dq[size_t(j * k + kk)];
            exact += double(x[size_t(i * k + kk)]) * w[size_t(j * k + kk)];
          }
          const double got = y[size_t(i * n + j)];
          se += (got - ref) * (got - ref);
          ss += ref * ref;
          se_f32 += (got - exact) * (got - exact);
          ss_f32 += exact * exact;
        }
      const double rel = std::sqrt(se / ss), rel_f32 = std::sqrt(se_f32 / ss_f32);
      const double tol = spec().tolerance(p).max_rel_l2;
      // The table rounding bound is derived for uniform random codes (kappa ~2); Gaussian weights
      // use fewer codes, which raises kappa by up to about 2x. cpu.idot's int8 activations on
      // Gaussian rows sit well inside its bound (derived for the worst block); cpu.dequant is f32;
      // cpu.amx rounds each weight and each activation to bf16, relative 2^-9 at most each.
      const std::string nm = name;
      const double bound = nm == "cpu.lut" ? 2 * tol : nm == "cpu.idot" ? tol / 2 : nm == "cpu.amx" ? 2 * 0x1p-9 : 1e-5;
      EXPECT_LT(rel, bound) << name << " " << d;
      // Against the unquantized weights the error is the weights' own (1/sqrt(SQNR)) plus ours.
      EXPECT_LT(rel_f32, 1.5 * rep.rel_l2 + rel) << name << " " << d;
      std::printf("%-12s %-50s vs dequantized %.2e, vs f32 %.3f (weights alone %.3f)\n", name, d, rel, rel_f32, rep.rel_l2);
    }
  }
}

TEST(QGemmRun, TensorsThatDoNotMatchTheProblemAreRejected) {
  const Problem p = parse("qgemm m=2 n=64 k=64 wbits=2");
  auto descs = spec().tensors(p);
  std::vector<std::vector<uint8_t>> bufs;
  std::vector<TensorView> t;
  for (const auto& d : descs) {
    int64_t count = 1;
    for (auto v : d.shape) count *= v;
    bufs.emplace_back(dtype_storage_bytes(d.dtype, count) + 64);
    t.push_back({bufs.back().data(), d.dtype, d.shape, contiguous_strides(d.shape)});
  }
  for (const char* name : {"cpu.lut", "cpu.dequant", "cpu.idot"}) {
    EXPECT_TRUE(impl(name).run(p, {}, t, {}).ok()) << name;
    auto bad = t;
    bad[1].shape = {bad[1].shape[0], bad[1].shape[1] + 1};
    bad[1].strides = contiguous_strides(bad[1].shape);
    const Status st = impl(name).run(p, {}, bad, {});
    EXPECT_EQ(st.code(), StatusCode::invalid_argument) << name;
    EXPECT_NE(st.message().find("qgemm: W:"), std::string::npos) << st.message();
    bad = t;
    bad[2].dtype = DType::bf16;
    EXPECT_FALSE(impl(name).run(p, {}, bad, {}).ok()) << name;
    EXPECT_FALSE(impl(name).run(p, {}, std::span<const TensorView>(t.data(), 3), {}).ok()) << name;
    EXPECT_FALSE(impl(name).run(p, {{"chunk", -1}}, t, {}).ok()) << name;
  }
}

// An infinite activation has no int8 table; the row it is in must come out non-finite, as the
// reference does, and never as finite wrong numbers.
TEST(QGemmRun, NonFiniteActivationsNeverGiveFiniteValues) {
  const Problem p = parse("qgemm m=2 n=64 k=64 wbits=4 group=32");
  auto descs = spec().tensors(p);
  std::vector<std::vector<uint8_t>> bufs;
  std::vector<TensorView> t;
  std::mt19937 rng(9);
  for (const auto& d : descs) {
    int64_t count = 1;
    for (auto v : d.shape) count *= v;
    bufs.emplace_back(dtype_storage_bytes(d.dtype, count));
    for (int64_t i = 0; d.role == TensorDesc::Role::input && i < count; ++i)
      store_from_double(d.dtype, bufs.back().data(), i, d.offset + d.scale * std::normal_distribution<double>(0, 1)(rng));
    t.push_back({bufs.back().data(), d.dtype, d.shape, contiguous_strides(d.shape)});
  }
  t[0].ptr<float>()[64 + 5] = INFINITY;
  for (const char* name : {"cpu.lut", "cpu.dequant", "cpu.idot"}) {
    ASSERT_TRUE(impl(name).run(p, {}, t, {}).ok());
    const float* y = t.back().ptr<float>();
    for (int j = 0; j < 64; ++j) {
      EXPECT_TRUE(std::isfinite(y[j])) << name << " row 0, " << j;
      EXPECT_FALSE(std::isfinite(y[64 + j])) << name << " row 1, " << j << " = " << y[64 + j];
    }
  }
}

// ---- Descriptor rules -----------------------------------------------------------------------------------

TEST(QGemmSpec, BadDescriptorsNameTheParameter) {
  struct Bad {
    const char* d;
    const char* param;
  };
  for (const Bad& b : {Bad{"qgemm m=1 n=8 k=8 format=ternary wbits=3", "wbits"},
                       Bad{"qgemm m=1 n=8 k=8 format=mxfp4 group=64", "group"},
                       Bad{"qgemm m=1 n=8 k=8 format=mxint8 wbits=4", "wbits"},
                       Bad{"qgemm m=1 n=8 k=8 group=16", "group"},
                       Bad{"qgemm m=1 n=8 k=8 format=nvfp4 sdtype=f32", "sdtype"},
                       Bad{"qgemm m=1 n=8 k=8 act=f16", "act"},
                       Bad{"qgemm m=1048576 n=1048576 k=1048576", "m*k+n*k+m*n"}}) {
    auto p = Registry::global().parse(b.d);
    ASSERT_FALSE(p.ok()) << b.d;
    EXPECT_NE(p.status().message().find(std::string("qgemm: ") + b.param), std::string::npos) << p.status().message();
  }
  for (const char* d : {"qgemm m=1 n=4096 k=4096 wbits=2 group=128", "qgemm m=8 n=64 k=64 format=nvfp4 group=16"})
    EXPECT_EQ(spec().format(parse(spec().format(parse(d)))), spec().format(parse(d)));
}

TEST(QGemmSpec, ToleranceComesFromTheRoute) {
  // Table lookup formats: ~5% (int8 tables per 32 activations).
  EXPECT_GT(spec().tolerance(parse("qgemm m=1 n=64 k=4096 wbits=2")).max_rel_l2, 0.03);
  EXPECT_LT(spec().tolerance(parse("qgemm m=1 n=64 k=4096 wbits=2")).max_rel_l2, 0.08);
  // 5..8 bits: int8 activations per 32 (cpu.idot), 2 sqrt(32/12)/127 = 2.6%, whatever k is.
  EXPECT_NEAR(spec().tolerance(parse("qgemm m=1 n=64 k=4096 wbits=5")).max_rel_l2, 0.0257, 5e-4);
  EXPECT_EQ(spec().tolerance(parse("qgemm m=1 n=64 k=64 wbits=8 format=uint")).max_rel_l2,
            spec().tolerance(parse("qgemm m=1 n=64 k=14336 wbits=8 format=uint")).max_rel_l2);
  // The block formats: cpu.idot's int8 activations too (nvfp4's per 16, inside the same bound).
  EXPECT_NEAR(spec().tolerance(parse("qgemm m=1 n=64 k=4096 format=mxfp4")).max_rel_l2, 0.0257, 5e-4);
  EXPECT_NEAR(spec().tolerance(parse("qgemm m=1 n=64 k=4096 format=mxint8")).max_rel_l2, 0.0257, 5e-4);
  EXPECT_NEAR(spec().tolerance(parse("qgemm m=1 n=64 k=4096 format=nvfp4")).max_rel_l2, 0.0257, 5e-4);
}

}  // namespace
}  // namespace tessel::qgemm
