// cpu.simd's small-M path (src/ops/gemm/cpu_small_m.cpp): verify on every Highway target this CPU
// has (AVX2 forced too) across row groups, K tails, column tails and column blocks; misaligned
// tensors with canaries around C; thread counts; and the threshold on M that routes a call to it.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "gemm/cpu_small_m.hpp"
#include "hwy/targets.h"
#include "tessel/core/dtype.hpp"
#include "tessel/runtime/harness.hpp"
#include "tessel/runtime/registry.hpp"

namespace tessel {
namespace {

using gemm::kSmallMKn;
using gemm::kSmallMNk;

const OpSpec& spec() { return *Registry::global().spec("gemm"); }
const Implementation& simd() { return *Registry::global().impl("gemm", "cpu.simd"); }

Problem parse(const std::string& d) {
  auto p = spec().parse(d);
  EXPECT_TRUE(p.ok()) << d << ": " << p.status().message();
  return *p;
}

// Restores automatic target choice when a test ends, even on failure.
struct ForcedTarget {
  explicit ForcedTarget(int64_t t) { hwy::SetSupportedTargetsForTest(t); }
  ~ForcedTarget() { hwy::SetSupportedTargetsForTest(0); }
};

// Every register-budget case: one row, row counts around the group sizes (2 and 6 rows for nk,
// 6 and 12 for kn, on AVX2 and AVX-512), uneven groups above them; K shorter than a vector, K
// tails, several kn passes over K; N below one tile, column tails, two column blocks; bf16 in and
// out; every epilogue. All run with stream_b=1, which takes the small-M path at any M.
const char* kShapes[] = {
    "gemm m=1 n=1 k=1",
    "gemm m=1 n=1 k=1 b=nk",
    "gemm m=1 n=67 k=129",
    "gemm m=2 n=33 k=17 b=nk",
    "gemm m=3 n=5 k=4099 b=nk",
    "gemm m=5 n=100 k=300 dtype=bf16 b=nk",
    "gemm m=6 n=31 k=65 dtype=bf16 out=f32",
    "gemm m=7 n=33 k=65 dtype=bf16 out=f32 b=nk",
    "gemm m=12 n=64 k=33 act=silu",
    "gemm m=13 n=70 k=70 b=nk bias=true act=silu residual=true",
    "gemm m=16 n=130 k=200 bias=true act=gelu",
    "gemm m=16 n=1100 k=40 dtype=bf16 residual=true",
    "gemm m=16 n=1030 k=33 dtype=bf16 b=nk bias=true act=gelu",
    "gemm m=29 n=50 k=31",
    "gemm m=37 n=40 k=50 b=nk dtype=bf16 residual=true",
};

TEST(GemmSmallM, PassesVerifyOnEveryTarget) {
  bool ran_avx2 = false;
  for (int64_t target : hwy::SupportedAndGeneratedTargets()) {
    ForcedTarget forced(target);
    ran_avx2 |= target == HWY_AVX2;
    for (const char* d : kShapes) {
      VerifyOptions opt;
      opt.config = {{"stream_b", 1}};
      const VerifyResult r = verify(spec(), simd(), parse(d), opt);
      EXPECT_EQ(r.verdict, Verdict::passed) << hwy::TargetName(target) << " " << d << ": " << r.reason;
    }
  }
  if (hwy::SupportedTargets() & HWY_AVX2) {
    EXPECT_TRUE(ran_avx2) << "the AVX2 path must be tested where the CPU has it";
  }
}

// One call's tensors, each starting `shift` bytes into its buffer (a multiple of 4, so elements stay
// aligned while rows are not aligned to vectors), with canaries before and after C.
class Tensors {
 public:
  static constexpr size_t kGuard = 64;
  static constexpr unsigned char kCanary = 0xA5;

  Tensors(const Problem& p, size_t shift, uint32_t seed) {
    const auto descs = spec().tensors(p);
    std::mt19937 rng(seed);
    std::normal_distribution<double> normal(0, 1);
    bufs_.resize(descs.size());
    for (size_t i = 0; i < descs.size(); ++i) {
      int64_t n = 1;
      for (int64_t x : descs[i].shape) n *= x;
      bytes_.push_back(dtype_storage_bytes(descs[i].dtype, n));
      bufs_[i].assign(kGuard + shift + bytes_[i] + kGuard, kCanary);
      void* data = bufs_[i].data() + kGuard + shift;
      if (descs[i].role == TensorDesc::Role::input)
        for (int64_t e = 0; e < n; ++e) store_from_double(descs[i].dtype, data, e, normal(rng));
      views_.push_back({data, descs[i].dtype, descs[i].shape, contiguous_strides(descs[i].shape)});
    }
  }

  const std::vector<TensorView>& views() const { return views_; }
  std::vector<unsigned char> c() const {
    const auto* p = static_cast<const unsigned char*>(views_.back().data);
    return {p, p + bytes_.back()};
  }
  // Whether the bytes around C still hold the canary.
  bool c_guards_intact() const {
    const auto& b = bufs_.back();
    const auto* c = static_cast<const unsigned char*>(views_.back().data);
    for (const unsigned char* q = b.data(); q < c; ++q)
      if (*q != kCanary) return false;
    for (const unsigned char* q = c + bytes_.back(); q < b.data() + b.size(); ++q)
      if (*q != kCanary) return false;
    return true;
  }

 private:
  std::vector<std::vector<unsigned char>> bufs_;
  std::vector<size_t> bytes_;
  std::vector<TensorView> views_;
};

std::vector<double> as_doubles(const std::vector<unsigned char>& bytes, DType t) {
  const int64_t n = int64_t(bytes.size()) / (t == DType::f32 ? 4 : 2);
  std::vector<double> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) v[size_t(i)] = load_as_double(t, bytes.data(), i);
  return v;
}

// Misaligned tensors, every thread count: nothing around C is touched, the result does not depend
// on how N is split (each output is one thread's, in one order), and it matches the packed path.
TEST(GemmSmallM, MisalignedTensorsAndThreadsAgreeWithThePackedPath) {
  for (const char* d : {"gemm m=3 n=37 k=133 b=nk bias=true act=silu residual=true", "gemm m=9 n=101 k=77 residual=true",
                        "gemm m=16 n=200 k=45 dtype=bf16 b=nk", "gemm m=1 n=1050 k=19 dtype=bf16 act=gelu"}) {
    const Problem p = parse(d);
    const DType out = spec().tensors(p).back().dtype;
    Tensors packed(p, 0, 7);
    ASSERT_TRUE(simd().run(p, {{"stream_b", 0}}, packed.views(), RunContext{nullptr, 1}).ok());
    const std::vector<double> want = as_doubles(packed.c(), out);
    std::vector<unsigned char> first;
    for (size_t shift : {size_t(4), size_t(8), size_t(12)}) {
      for (int threads : {1, 2, 3}) {
        Tensors t(p, shift, 7);
        ASSERT_TRUE(simd().run(p, {{"stream_b", 1}}, t.views(), RunContext{nullptr, threads}).ok());
        EXPECT_TRUE(t.c_guards_intact()) << d << " shift=" << shift << " threads=" << threads;
        if (first.empty()) first = t.c();
        EXPECT_EQ(t.c(), first) << d << " shift=" << shift << " threads=" << threads;
      }
    }
    const std::vector<double> got = as_doubles(first, out);
    double err = 0, norm = 0;
    for (size_t i = 0; i < want.size(); ++i) {
      err += (got[i] - want[i]) * (got[i] - want[i]);
      norm += want[i] * want[i];
    }
    EXPECT_LT(std::sqrt(err / norm), out == DType::f32 ? 1e-6 : 8e-3) << d;
  }
}

// stream_b=auto takes the small-M path exactly up to the threshold: its result is bitwise that of
// stream_b=1 at the threshold and that of stream_b=0 at one row more. (The two paths add in
// different orders, K > kc included, so their results differ in some bits.)
TEST(GemmSmallM, ThresholdRoutesExactlyUpToSmallM) {
  for (const char* layout : {"kn", "nk"}) {
    const int64_t threshold = std::string(layout) == "kn" ? kSmallMKn : kSmallMNk;
    for (int64_t m : {threshold, threshold + 1}) {
      const Problem p = parse("gemm m=" + std::to_string(m) + " n=96 k=600 b=" + layout);
      std::vector<unsigned char> c[3];
      for (int64_t mode : {-1, 0, 1}) {
        Tensors t(p, 0, 11);
        Config config;
        if (mode >= 0) config["stream_b"] = mode;
        ASSERT_TRUE(simd().run(p, config, t.views(), RunContext{nullptr, 1}).ok());
        c[mode + 1] = t.c();
      }
      ASSERT_NE(c[1], c[2]) << "the two paths gave identical bits; the test cannot tell them apart";
      EXPECT_EQ(c[0], m <= threshold ? c[2] : c[1]) << layout << " m=" << m;
    }
  }
}

TEST(GemmSmallM, StreamBTunableIsChecked) {
  const Problem p = parse("gemm m=4 n=8 k=8");
  EXPECT_TRUE(check_config(simd(), p, {{"stream_b", 1}}).ok());
  EXPECT_FALSE(check_config(simd(), p, {{"stream_b", 2}}).ok());
}

}  // namespace
}  // namespace tessel
