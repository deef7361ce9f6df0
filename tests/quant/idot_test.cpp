// qgemm cpu.idot: verify on every x86 target this CPU has (AVX-512 with VNNI, AVX-512, AVX2 forced),
// the VNNI instruction and its pmaddwd emulation giving identical bits (and the MX formats' gathered
// decode the element-wise one's), and what it refuses.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <random>
#include <span>
#include <vector>

#include "qgemm/qgemm.hpp"
#include "qgemm_test_util.hpp"
#include "tessel/runtime/harness.hpp"
#include "tessel/runtime/registry.hpp"

namespace tessel::qgemm {
namespace {

using namespace test;

const Implementation& idot() { return impl("cpu.idot"); }

// 2..8 bits, int and uint, tails in n (not a multiple of 64), k (not a multiple of 8, 32 or the
// group), m (past the 4-row block), bf16 activations, per-channel scales.
const char* kProblems[] = {
    "qgemm m=3 n=70 k=150 wbits=5 group=32",
    "qgemm m=1 n=64 k=256 wbits=6",
    "qgemm m=2 n=40 k=100 wbits=7 format=uint group=64",
    "qgemm m=6 n=66 k=300 wbits=8 group=channel act=bf16",
    "qgemm m=9 n=130 k=77 wbits=8 format=uint group=32 sdtype=bf16",
    "qgemm m=5 n=65 k=203 wbits=2 group=64",
    "qgemm m=4 n=64 k=96 wbits=3 format=uint sdtype=f32",
    "qgemm m=1 n=1 k=1 wbits=4",
    // MX: whole and partial tiles and blocks (n = 130, k = 300 and 101: a ragged last block, an odd
    // FP4 row), the three-row sweep and its remainder, bf16 activations.
    "qgemm m=7 n=130 k=300 format=mxfp4",
    "qgemm m=4 n=70 k=101 format=mxfp4 act=bf16",
    "qgemm m=5 n=64 k=96 format=mxint8",
    "qgemm m=1 n=130 k=77 format=mxint8 act=bf16",
    // nvfp4: its halves dotted apart, a block ending in its first half (k = 40) or one element into
    // its second (k = 49), the last block's second half absent.
    "qgemm m=7 n=130 k=300 format=nvfp4",
    "qgemm m=4 n=70 k=40 format=nvfp4 act=bf16",
    "qgemm m=3 n=64 k=49 format=nvfp4",
};

TEST(IdotTargets, PassesVerifyOnEveryTarget) {
  bool ran_avx2 = false;
  for (int64_t target : x86_targets()) {
    ForcedTarget forced(target);
    ASSERT_STREQ(idot_target_name(), hwy::TargetName(target));
    ran_avx2 |= target == HWY_AVX2;
    double worst = 0;
    for (const char* d : kProblems) {
      const Problem p = parse(d);
      ASSERT_TRUE(idot().supports(p).ok) << d;
      const VerifyResult r = verify(spec(), idot(), p);
      EXPECT_EQ(r.verdict, Verdict::passed) << hwy::TargetName(target) << " " << d << ": " << r.reason;
      worst = std::max(worst, r.worst_rel_l2);
    }
    std::printf("cpu.idot on %s: worst rel_l2 %.2e\n", hwy::TargetName(target), worst);
  }
  if (hwy::SupportedTargets() & HWY_AVX2) {
    EXPECT_TRUE(ran_avx2) << "the AVX2 path must be tested where the CPU has it";
  }
}

// Inputs for `p` drawn from N(0, 1) through the spec's scale/offset, and views on them.
struct Owned {
  std::vector<std::vector<uint8_t>> bufs;
  std::vector<TensorView> views;
};
Owned make_tensors(const Problem& p, unsigned seed) {
  Owned o;
  std::mt19937 rng(seed);
  const auto descs = spec().tensors(p);
  for (const auto& td : descs) {
    int64_t count = 1;
    for (auto v : td.shape) count *= v;
    o.bufs.emplace_back(dtype_storage_bytes(td.dtype, count));
    for (int64_t i = 0; td.role == TensorDesc::Role::input && i < count; ++i) {
      const double v = std::normal_distribution<double>(0, 1)(rng);
      store_from_double(td.dtype, o.bufs.back().data(), i, td.offset + td.scale * (td.positive ? std::fabs(v) : v));
    }
  }
  for (size_t i = 0; i < descs.size(); ++i)
    o.views.push_back({o.bufs[i].data(), descs[i].dtype, descs[i].shape, contiguous_strides(descs[i].shape)});
  return o;
}

// vpdpbusd (AVX3_DL) and the pmaddwd emulation (AVX3, AVX2) are exact integer dots, and the f32
// steps are the same FMAs per lane, so every FMA target gives the same bits. The targets also decode
// the bit planes in their own ways (AVX3_DL a GFNI bit transpose, AVX3 and AVX2 a transpose in 64-bit
// lanes with different shuffles; SSE4's weighted plane sums are checked by verify above), so every
// width and both schemes are here: one wrong code in one row changes that row's bits. The MX formats'
// panels are transposed by permutes on AVX3_DL (whole tiles and blocks) and row by row elsewhere
// (from m = 9: below, AVX3_DL takes the MX GEMV where X is small, tested next); nvfp4's too.
TEST(IdotTargets, VnniAndItsEmulationGiveIdenticalBits) {
  std::vector<int64_t> fma_targets;
  for (int64_t t : x86_targets())
    if (t != HWY_SSE4) fma_targets.push_back(t);
  if (fma_targets.size() < 2) GTEST_SKIP() << "fewer than two FMA targets on this CPU";
  for (const char* d : {"qgemm m=7 n=130 k=300 wbits=8 group=64", "qgemm m=5 n=64 k=77 wbits=5 format=uint group=32",
                        "qgemm m=1 n=128 k=256 wbits=2", "qgemm m=2 n=64 k=64 wbits=3 format=uint",
                        "qgemm m=1 n=70 k=96 wbits=4", "qgemm m=3 n=64 k=128 wbits=5",
                        "qgemm m=1 n=64 k=160 wbits=6 format=uint", "qgemm m=2 n=65 k=64 wbits=7",
                        "qgemm m=1 n=64 k=64 wbits=7 format=uint", "qgemm m=1 n=64 k=96 wbits=8 format=uint",
                        "qgemm m=9 n=130 k=300 format=mxfp4", "qgemm m=9 n=192 k=256 format=mxint8",
                        "qgemm m=10 n=130 k=300 format=nvfp4"}) {
    const Problem p = parse(d);
    Owned o = make_tensors(p, 5);
    float* y = o.views.back().ptr<float>();
    const size_t ny = o.bufs.back().size() / sizeof(float);
    std::vector<float> first;
    for (int64_t t : fma_targets) {
      ForcedTarget forced(t);
      std::fill(y, y + ny, NAN);
      ASSERT_TRUE(idot().run(p, {}, o.views, {}).ok());
      if (first.empty()) {
        first.assign(y, y + ny);
        continue;
      }
      EXPECT_EQ(std::memcmp(first.data(), y, ny * sizeof(float)), 0) << d << " on " << hwy::TargetName(t);
    }
  }
}

// The MX GEMV (a few rows of X, W's rows dotted where they lie: AVX3_DL; AVX2 where the CPU has
// AVX-VNNI; the AVX3 target, and AVX2 without AVX-VNNI (tested above), for FP4 codes)
// makes the panel route's integer dots and sums them in another f32 order: against the panel route
// (SSE4's), every output within a few f32 roundings of the row's magnitude. A wrong code, exponent or
// correction moves outputs by far more (1/63 for mxint8's 1/64 fails it).
TEST(IdotTargets, MxGemvAgreesWithThePanelRoute) {
  const auto targets = x86_targets();
  auto has = [&](int64_t t) { return std::find(targets.begin(), targets.end(), t) != targets.end(); };
  std::vector<int64_t> gemv;
  if (has(HWY_AVX3_DL)) gemv.push_back(HWY_AVX3_DL);
  if (has(HWY_AVX2) && __builtin_cpu_supports("avxvnni")) gemv.push_back(HWY_AVX2);
  if (has(HWY_AVX3)) gemv.push_back(HWY_AVX3);  // FP4 by pmaddubsw in 32-byte vectors (mxint8: the panel)
  if (gemv.empty() || !has(HWY_SSE4)) GTEST_SKIP() << "no target with the MX GEMV, or no SSE4 to compare with";
  auto agree = [&](const Problem& p, Owned& o, const std::string& what) {
    float* y = o.views.back().ptr<float>();
    const size_t ny = o.bufs.back().size() / sizeof(float);
    auto run_on = [&](int64_t target) {
      ForcedTarget forced(target);
      std::fill(y, y + ny, NAN);
      EXPECT_TRUE(idot().run(p, {}, o.views, {}).ok());
      return std::vector<float>(y, y + ny);
    };
    const std::vector<float> panel = run_on(HWY_SSE4);
    double ss = 0;
    for (float v : panel)
      if (std::isfinite(v)) ss += double(v) * v;
    const double rms = std::sqrt(ss / double(ny));
    for (int64_t t : gemv) {
      const std::vector<float> got = run_on(t);
      for (size_t i = 0; i < ny; ++i) {
        if (std::isnan(panel[i])) {
          ASSERT_TRUE(std::isnan(got[i])) << hwy::TargetName(t) << " " << what << " y[" << i << "] = " << got[i];
          continue;
        }
        ASSERT_NEAR(got[i], panel[i], 1e-5 * rms + 1e-5 * std::fabs(panel[i])) << hwy::TargetName(t) << " " << what << " y[" << i << "]";
      }
    }
  };
  for (const char* d : {"qgemm m=1 n=130 k=300 format=mxfp4", "qgemm m=4 n=70 k=1001 format=mxfp4 act=bf16",
                        "qgemm m=3 n=65 k=77 format=mxint8", "qgemm m=2 n=200 k=4096 format=mxint8",
                        "qgemm m=1 n=130 k=300 format=nvfp4", "qgemm m=4 n=70 k=1001 format=nvfp4 act=bf16",
                        "qgemm m=2 n=65 k=49 format=nvfp4",
                        // 5..8 rows where X's layout is small (MxGemvTakes): every row count's template.
                        "qgemm m=5 n=130 k=300 format=mxfp4", "qgemm m=6 n=65 k=200 format=mxint8",
                        "qgemm m=7 n=70 k=301 format=nvfp4 act=bf16", "qgemm m=8 n=64 k=512 format=mxfp4"}) {
    const Problem p = parse(d);
    Owned o = make_tensors(p, 7);
    agree(p, o, d);
  }
  // The nvfp4 GEMV converts e4m3 scales by arithmetic, the panel route by a table: every scale of W
  // one code, so that the code alone sets the outputs' size, for the codes at the edges (subnormals
  // 0x01 and 0x07, the least normal 0x08, 1.0, the largest 0x7e, a negative one, NaN 0x7f).
  const Problem p = parse("qgemm m=2 n=70 k=200 format=nvfp4");
  Owned o = make_tensors(p, 9);
  TensorView& sv = o.views[size_t(TensorIndex::of(Shape::from(p)).scales)];
  for (uint8_t code : {0x01, 0x07, 0x08, 0x38, 0x7e, 0xb3, 0x7f}) {
    std::fill_n(static_cast<uint8_t*>(sv.data), sv.numel(), code);
    agree(p, o, "uniform e4m3 scale " + std::to_string(code));
  }
}

// On the AVX2 target a CPU with AVX-VNNI runs vpdpbusd in its VEX form; TESSEL_CPU_NO_AVX_VNNI keeps the
// pmaddwd emulation. Both are exact integer dots: the same bits.
TEST(IdotTargets, AvxVnniAndItsEmulationGiveIdenticalBits) {
  if (!(hwy::SupportedTargets() & HWY_AVX2)) GTEST_SKIP() << "no AVX2";
  if (!__builtin_cpu_supports("avxvnni")) GTEST_SKIP() << "no AVX-VNNI: the emulation is what runs";
  ForcedTarget forced(HWY_AVX2);
  // The FP4 formats' GEMV (m <= 8 where X is small) dots by pmaddubsw without AVX-VNNI; mxint8's codes
  // would overflow it, so at few rows it goes to the panel route there (m = 9: the panel either way).
  for (const char* d : {"qgemm m=7 n=130 k=300 wbits=8 group=64", "qgemm m=1 n=64 k=160 wbits=6 format=uint",
                        "qgemm m=1 n=130 k=300 format=mxfp4", "qgemm m=4 n=70 k=1001 format=nvfp4 act=bf16",
                        "qgemm m=7 n=65 k=77 format=mxfp4", "qgemm m=9 n=64 k=96 format=mxint8"}) {
    const Problem p = parse(d);
    Owned o = make_tensors(p, 9);
    float* y = o.views.back().ptr<float>();
    const size_t ny = o.bufs.back().size() / sizeof(float);
    ASSERT_TRUE(idot().run(p, {}, o.views, {}).ok());
    const std::vector<float> vnni(y, y + ny);
    setenv("TESSEL_CPU_NO_AVX_VNNI", "1", 1);
    std::fill(y, y + ny, NAN);
    const bool ran = idot().run(p, {}, o.views, {}).ok();
    unsetenv("TESSEL_CPU_NO_AVX_VNNI");
    ASSERT_TRUE(ran);
    EXPECT_EQ(std::memcmp(vnni.data(), y, ny * sizeof(float)), 0) << d;
  }
}

TEST(IdotSupport, SaysWhyNot) {
  struct Case {
    const char* d;
    const char* why;
  };
  for (const Case& c : {Case{"qgemm m=1 n=64 k=64 format=ternary5", "ternary5"},
                        Case{"qgemm m=1 n=64 k=64 format=ternary", "ternary"},
                        Case{"qgemm m=1 n=64 k=64 wbits=1", "2..8-bit"}}) {
    const Support s = idot().supports(parse(c.d));
    EXPECT_FALSE(s.ok) << c.d;
    EXPECT_NE(s.reason.find(c.why), std::string::npos) << s.reason;
    // Run on it anyway: a clear status, never a crash.
    Owned o = make_tensors(parse(c.d), 1);
    const Status st = idot().run(parse(c.d), {}, o.views, {});
    EXPECT_FALSE(st.ok()) << c.d;
  }
}

// cpu.idot's activation model, stated in cpu_idot.cpp: per row, one int8 step d = max|x| / 127 for
// every 32 activations; x rounds to q = nearest(x * 127 / max|x|). (Signed codes here: uint's zero
// points add back the exact sum of x, outside this model.) The integer dots are exact, so the
// kernel's outputs are the double reference on X replaced by q * d, within a few f32 roundings of
// each product's magnitude. Each row draws one outlier, which makes its step 30x coarser than its
// neighbours': a kernel taking steps of another length misses by far more than the bound (kernel and
// test disagreeing on 32 against 128 fails every case whose group holds 64 or more, session 30).
TEST(IdotRun, OutputsAreTheReferenceOnTheStatedActivationSteps) {
  constexpr int64_t kStep = 32;
  for (int64_t target : x86_targets()) {
    ForcedTarget forced(target);
    for (const char* d : {"qgemm m=4 n=70 k=300 wbits=2 group=128", "qgemm m=3 n=64 k=200 wbits=3 group=64",
                          "qgemm m=5 n=64 k=333 wbits=4 group=channel", "qgemm m=2 n=64 k=96 wbits=4 group=32",
                          "qgemm m=3 n=65 k=256 wbits=6 group=128", "qgemm m=4 n=64 k=100 wbits=8 group=channel"}) {
      const Problem p = parse(d);
      const int64_t m = p.i64("m"), n = p.i64("n"), k = p.i64("k");
      Owned o = make_tensors(p, 11);
      float* x = o.views[0].ptr<float>();
      for (int64_t i = 0; i < m; ++i) x[i * k + (37 * i + 5) % k] = 30.0f;
      ASSERT_TRUE(idot().run(p, {}, o.views, {}).ok()) << d;
      const std::vector<float> got(o.views.back().ptr<float>(), o.views.back().ptr<float>() + m * n);
      for (int64_t i = 0; i < m; ++i)
        for (int64_t s0 = 0; s0 < k; s0 += kStep) {
          const int64_t s1 = std::min(k, s0 + kStep);
          float amax = 0;
          for (int64_t j = s0; j < s1; ++j) amax = std::max(amax, std::fabs(x[i * k + j]));
          const float inv = 127.0f / amax;
          for (int64_t j = s0; j < s1; ++j)
            x[i * k + j] = std::nearbyint(std::clamp(x[i * k + j] * inv, -127.0f, 127.0f)) * (amax / 127.0f);
        }
      std::vector<int64_t> rows;
      for (int64_t i = 0; i < m; ++i) rows.push_back(i);
      std::vector<RefOutput> want;
      spec().reference(p, std::span<const TensorView>(o.views).first(o.views.size() - 1), rows, want);
      ASSERT_EQ(want.size(), 1u);
      double rms = 0;
      for (double v : want[0].values) rms += v * v;
      rms = std::sqrt(rms / double(want[0].values.size()));
      int bad = 0;
      for (int64_t i = 0; i < m * n; ++i)
        if (!(std::fabs(got[size_t(i)] - want[0].values[size_t(i)]) <= 1e-5 * rms)) ++bad;
      EXPECT_EQ(bad, 0) << hwy::TargetName(target) << " " << d << ": outputs off the model by more than 1e-5 of the RMS " << rms;
    }
  }
}

// An activation block of all zeros has step 0 and must give exact zeros, not NaN (0 * inf).
TEST(IdotRun, ZeroActivationsGiveZeros) {
  const Problem p = parse("qgemm m=2 n=64 k=96 wbits=6 format=uint group=32");
  Owned o = make_tensors(p, 3);
  std::memset(o.bufs[0].data(), 0, o.bufs[0].size());
  ASSERT_TRUE(idot().run(p, {}, o.views, {}).ok());
  const float* y = o.views.back().ptr<float>();
  for (int i = 0; i < 2 * 64; ++i) EXPECT_EQ(y[i], 0.0f) << i;
}

// A NaN or an infinity anywhere in a row's block of 32 activations (here not last in it, with larger
// finite values after it) makes that row's outputs NaN on every target, never a finite wrong value;
// the other rows stay finite. Session 24's vector quantizer; the scalar one it replaced dropped a NaN
// that was followed by a larger value and converted NaN to int.
TEST(IdotRun, NonFiniteActivationGivesNaNRows) {
  for (int64_t target : x86_targets()) {
    ForcedTarget forced(target);
    for (float bad : {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity()}) {
      const Problem p = parse("qgemm m=4 n=64 k=96 wbits=4 group=32");
      Owned o = make_tensors(p, 5);
      float* x = reinterpret_cast<float*>(o.bufs[0].data());
      x[1 * 96 + 32 + 5] = bad;    // row 1, block 1, position 5
      x[1 * 96 + 32 + 20] = 50.0f;  // a larger finite value after it in the same block
      ASSERT_TRUE(idot().run(p, {}, o.views, {}).ok());
      const float* y = o.views.back().ptr<float>();
      for (int m = 0; m < 4; ++m)
        for (int j = 0; j < 64; ++j) {
          if (m == 1) EXPECT_TRUE(std::isnan(y[m * 64 + j])) << hwy::TargetName(target) << " " << bad << " y[1, " << j << "] = " << y[m * 64 + j];
          else EXPECT_TRUE(std::isfinite(y[m * 64 + j])) << hwy::TargetName(target) << " y[" << m << ", " << j << "]";
        }
    }
  }
}

}  // namespace
}  // namespace tessel::qgemm
