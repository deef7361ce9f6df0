// The tuner against a fake implementation whose speed depends on its config: it must measure in the
// model's order, within its budget, pick the truly fastest config that passes, and the harness must
// then run what was tuned unless a config is pinned.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "tessel/runtime/harness.hpp"
#include "tessel/runtime/registry.hpp"
#include "tessel/runtime/tuner.hpp"
#include "tessel/runtime/tuning_db.hpp"

namespace tessel {
namespace {

// An f32 gemm (b=kn, no epilogue) that sleeps a time set by its `speed` tunable. Its model ranks the
// configs imperfectly on purpose: speed=4 is its favourite but writes wrong values, and speed=1 is
// predicted faster than speed=2, which is truly the fastest.
class SleepyGemm final : public Implementation {
 public:
  std::string name() const override { return "test.sleepy"; }
  std::string op() const override { return "gemm"; }
  Device device() const override { return Device::cpu; }
  Support supports(const Problem& p) const override {
    if (p.str("dtype") != "f32" || p.str("b") != "kn" || p.flag("bias") || p.flag("residual") || p.str("act") != "none")
      return Support::no("plain f32 kn only");
    return Support::yes();
  }
  std::vector<Tunable> config_space(const Problem&) const override { return {{"speed", {0, 1, 2, 3, 4}}}; }
  double predict_seconds(const Problem& p, const Config& c, const Work&, const Roofline&) const override {
    static constexpr double kPredicted[] = {5e-4, 2e-4, 3e-4, 4e-4, 1e-4};
    return kPredicted[config_value(c, config_space(p), "speed")];
  }
  Status run(const Problem& p, const Config& config, std::span<const TensorView> t, const RunContext&) const override {
    // Milliseconds apart, so that a loaded machine's late wake-ups (CI runs two tests at once on two
    // cores beside the build) cannot reorder them: 0.5 ms against 2 ms measured 1.8x on a loaded VM.
    static constexpr int kSleepUs[] = {20000, 10000, 2500, 5000, 0};
    const int64_t speed = config_value(config, config_space(p), "speed");
    last_speed = speed;
    std::this_thread::sleep_for(std::chrono::microseconds(kSleepUs[speed]));
    const int64_t m = p.i64("m"), n = p.i64("n"), k = p.i64("k");
    const float* a = t[0].ptr<float>();
    const float* b = t[1].ptr<float>();
    float* c = t[2].ptr<float>();
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) {
        double acc = 0;
        for (int64_t kk = 0; kk < k; ++kk) acc += double(a[i * k + kk]) * b[kk * n + j];
        c[i * n + j] = speed == 4 ? 0.0f : float(acc);  // speed=4 is fast because it is wrong
      }
    return {};
  }
  mutable std::atomic<int64_t> last_speed{-1};
};

// Two tunables the model cannot tell apart (the default roofline model): only the tie-break orders them.
class FlatGemm final : public Implementation {
 public:
  std::string name() const override { return "test.flat"; }
  std::string op() const override { return "gemm"; }
  Device device() const override { return Device::cpu; }
  Support supports(const Problem&) const override { return Support::yes(); }
  std::vector<Tunable> config_space(const Problem&) const override { return {{"a", {7, 8, 9}}, {"b", {1, 2}}}; }
  Status run(const Problem&, const Config&, std::span<const TensorView>, const RunContext&) const override {
    return Status::unsupported("gemm", name(), "never run");
  }
};

const OpSpec& gemm_spec() { return *Registry::global().spec("gemm"); }

Problem problem() {
  auto p = gemm_spec().parse("gemm m=4 n=5 k=6");
  EXPECT_TRUE(p.ok()) << p.status().message();
  return *p;
}

TuneOptions fast_options(int budget) {
  TuneOptions opt;
  opt.budget = budget;
  opt.bench.warmup_seconds = 0;
  opt.bench.min_seconds = 0.005;
  opt.bench.max_seconds = 0.05;
  opt.bench.min_reps = 3;
  opt.bench.max_reps = 5;
  return opt;
}

int64_t speed_of(const TuneCandidate& c) { return c.config.at("speed"); }

TEST(Tuner, RanksByTheModel) {
  SleepyGemm impl;
  auto ranked = rank_configs(gemm_spec(), impl, problem(), Roofline{});
  ASSERT_TRUE(ranked.ok()) << ranked.status().message();
  std::vector<int64_t> order;
  for (const auto& c : *ranked) order.push_back(speed_of(c));
  EXPECT_EQ(order, (std::vector<int64_t>{4, 1, 2, 3, 0}));
  EXPECT_TRUE(ranked->back().is_default);
  EXPECT_DOUBLE_EQ(ranked->front().predicted_s, 1e-4);
}

TEST(Tuner, TiesGoNearestTheDefaultFirst) {
  FlatGemm impl;
  auto ranked = rank_configs(gemm_spec(), impl, problem(), Roofline{});
  ASSERT_TRUE(ranked.ok());
  ASSERT_EQ(ranked->size(), 6u);
  EXPECT_TRUE((*ranked)[0].is_default);
  EXPECT_EQ((*ranked)[0].config, (Config{{"a", 7}, {"b", 1}}));
  // One tunable away, in enumeration order (the last tunable varies fastest), then two away.
  EXPECT_EQ((*ranked)[1].config, (Config{{"a", 7}, {"b", 2}}));
  EXPECT_EQ((*ranked)[2].config, (Config{{"a", 8}, {"b", 1}}));
  EXPECT_EQ((*ranked)[3].config, (Config{{"a", 9}, {"b", 1}}));
  EXPECT_EQ((*ranked)[4].config, (Config{{"a", 8}, {"b", 2}}));
}

// Budget 3 measures the model's first three (4, 1, 2) and the default; the wrong config is reported
// FAILED and never picked, and measuring overrules the model: 2 beats its favourite 1.
TEST(Tuner, PicksTheTrulyFastestThatPasses) {
  SleepyGemm impl;
  auto r = tune(gemm_spec(), impl, problem(), nullptr, fast_options(3));
  ASSERT_TRUE(r.ok()) << r.status().message();
  int measured = 0;
  for (const auto& c : r->candidates) {
    measured += c.measured;
    if (speed_of(c) == 3) {
      EXPECT_FALSE(c.measured);
    }
    if (speed_of(c) == 4) {
      ASSERT_TRUE(c.measured);
      EXPECT_EQ(c.row.verdict, Verdict::failed) << c.row.reason;
    }
  }
  EXPECT_EQ(measured, 4);
  ASSERT_GE(r->best, 0);
  EXPECT_EQ(speed_of(r->candidates[size_t(r->best)]), 2);
  EXPECT_GT(r->speedup(), 3.0);  // 20 ms against 2.5 ms, with room for the harness's own time
}

TEST(Tuner, BudgetOneMeasuresTheFirstPickAndTheDefault) {
  SleepyGemm impl;
  auto r = tune(gemm_spec(), impl, problem(), nullptr, fast_options(1));
  ASSERT_TRUE(r.ok()) << r.status().message();
  std::vector<int64_t> measured;
  for (const auto& c : r->candidates)
    if (c.measured) measured.push_back(speed_of(c));
  EXPECT_EQ(measured, (std::vector<int64_t>{4, 0}));
  ASSERT_GE(r->best, 0);
  EXPECT_TRUE(r->candidates[size_t(r->best)].is_default) << "the only passing config measured";
}

TEST(Tuner, RejectsABadBudgetAndAnUnsupportedProblem) {
  SleepyGemm impl;
  auto bad = tune(gemm_spec(), impl, problem(), nullptr, fast_options(0));
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("budget"), std::string::npos) << bad.status().message();
  auto p = gemm_spec().parse("gemm m=4 n=5 k=6 dtype=bf16");
  ASSERT_TRUE(p.ok());
  auto unsupported = tune(gemm_spec(), impl, *p, nullptr, fast_options(2));
  ASSERT_FALSE(unsupported.ok());
  EXPECT_NE(unsupported.status().message().find("plain f32 kn only"), std::string::npos);
}

TEST(Tuner, OnlyAClearWinReplacesTheDefault) {
  BenchRow dflt, cand;
  dflt.median_s = 100e-6;
  dflt.iqr_s = 2e-6;
  cand.iqr_s = 2e-6;
  cand.median_s = 99.5e-6;  // within 1%
  EXPECT_FALSE(beats_default(cand, dflt));
  cand.median_s = 97.5e-6;  // 2.5 us faster: beyond 1% and beyond half the two IQRs (2 us)
  EXPECT_TRUE(beats_default(cand, dflt));
  cand.iqr_s = 10e-6;  // a noisy candidate needs more than 6 us
  EXPECT_FALSE(beats_default(cand, dflt));
  cand.median_s = 90e-6;
  EXPECT_TRUE(beats_default(cand, dflt));
}

// What tune stores, bench and verify then run when no config is pinned; a pinned config wins, and a
// stale entry is skipped with a warning.
TEST(Tuner, HarnessRunsTheTunedConfigUnlessPinned) {
  SleepyGemm impl;
  const Problem p = problem();
  const std::string canonical = gemm_spec().format(p);
  TuningDb db;
  db.put(TunedEntry{tuning_device(Device::cpu, 0), impl.name(), canonical, {{"speed", 2}}, 5e-4, 4e-3, "c", "d"});
  BenchOptions opt = fast_options(1).bench;
  opt.tuning = &db;

  auto rows = bench(gemm_spec(), {&impl}, p, nullptr, opt);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].verdict, Verdict::passed) << rows[0].reason;
  EXPECT_EQ(rows[0].config, "speed=2");
  EXPECT_TRUE(rows[0].tuned);
  EXPECT_EQ(impl.last_speed, 2);
  EXPECT_NE(rows[0].repro.find("--config speed=2"), std::string::npos) << "the repro needs no database: " << rows[0].repro;

  opt.config = {{"speed", 3}};
  rows = bench(gemm_spec(), {&impl}, p, nullptr, opt);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].config, "speed=3");
  EXPECT_FALSE(rows[0].tuned);
  EXPECT_EQ(impl.last_speed, 3);

  VerifyOptions vopt;
  vopt.tuning = &db;
  VerifyResult v = verify(gemm_spec(), impl, p, vopt);
  EXPECT_EQ(v.verdict, Verdict::passed) << v.reason;
  EXPECT_TRUE(v.tuned);
  EXPECT_EQ(v.config, (Config{{"speed", 2}}));
  EXPECT_EQ(impl.last_speed, 2);

  db.put(TunedEntry{tuning_device(Device::cpu, 0), impl.name(), canonical, {{"speed", 9}}, 5e-4, 4e-3, "c", "d"});
  opt.config.clear();
  rows = bench(gemm_spec(), {&impl}, p, nullptr, opt);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].verdict, Verdict::passed) << rows[0].reason;
  EXPECT_TRUE(rows[0].config.empty());
  EXPECT_FALSE(rows[0].tuned);
  EXPECT_NE(rows[0].warning.find("no longer checks"), std::string::npos) << rows[0].warning;
  EXPECT_EQ(impl.last_speed, 0);
}

}  // namespace
}  // namespace tessel
