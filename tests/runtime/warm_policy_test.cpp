// Tests for WarmPolicy, the detector that turns the CPU pool's spinning off when a spinning worker
// is seen not to run: driven with made-up stalls, region by region, so nothing here depends on the
// machine or its clock.
#include "runtime/cpu_warm_policy.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>

namespace tessel::cpu {
namespace {

constexpr int64_t kFast = 3'000;      // a spinning worker on its own core: a few microseconds
constexpr int64_t kSlow = 2'000'000;  // a worker that waited out a time slice
constexpr int64_t kNone = -1;         // no worker spun since the last region

// Feeds `regions` regions with `stall` each; returns how many of them were allowed to spin.
int warm_regions(WarmPolicy& p, int regions, int64_t stall) {
  int warm = 0;
  for (int i = 0; i < regions; ++i) warm += p.next_region(stall);
  return warm;
}

TEST(WarmPolicy, StartsWarmAndStaysWarmOnFastOrNoStalls) {
  WarmPolicy p;
  EXPECT_EQ(warm_regions(p, 1000, kFast), 1000);
  EXPECT_EQ(warm_regions(p, 1000, kNone), 1000);
  EXPECT_TRUE(p.next_region(WarmPolicy::kSlowNs - 1));  // just under the threshold is still fast
}

TEST(WarmPolicy, OneSlowStallTurnsItColdForTheFirstBackoff) {
  WarmPolicy p;
  EXPECT_TRUE(p.next_region(kFast));
  EXPECT_FALSE(p.next_region(WarmPolicy::kSlowNs));
  // The slow region itself was the first of kFirstBackoff cold ones.
  EXPECT_EQ(warm_regions(p, WarmPolicy::kFirstBackoff - 1, kFast), 0);
  EXPECT_TRUE(p.next_region(kFast));
}

TEST(WarmPolicy, BackoffGrowsWhileRetriesFailUpToTheCap) {
  WarmPolicy p;
  int expected = WarmPolicy::kFirstBackoff;
  for (int retry = 0; retry < 10; ++retry) {
    ASSERT_FALSE(p.next_region(kSlow)) << "retry " << retry;
    ASSERT_EQ(warm_regions(p, expected - 1, kNone), 0) << "retry " << retry;
    expected = std::min(WarmPolicy::kGrowth * expected, WarmPolicy::kMaxBackoff);
    ASSERT_EQ(p.next_backoff(), expected) << "retry " << retry;
  }
  EXPECT_EQ(expected, WarmPolicy::kMaxBackoff);  // 10 failed retries pass the cap
  EXPECT_TRUE(p.next_region(kFast));
}

TEST(WarmPolicy, SlowStallsWhileColdDoNotExtendTheBackoff) {
  WarmPolicy p;
  EXPECT_FALSE(p.next_region(kSlow));
  // Workers only spin briefly while cold; what they see then neither delays the retry nor doubles.
  EXPECT_EQ(warm_regions(p, WarmPolicy::kFirstBackoff - 1, kSlow), 0);
  EXPECT_TRUE(p.next_region(kFast));
  EXPECT_EQ(p.next_backoff(), WarmPolicy::kGrowth * WarmPolicy::kFirstBackoff);
}

TEST(WarmPolicy, LongRunOfFastRegionsResetsTheBackoff) {
  WarmPolicy p;
  for (int retry = 0; retry < 2; ++retry) {
    p.next_region(kSlow);
    warm_regions(p, p.next_backoff(), kNone);  // past the back-off whatever it is
  }
  const int grown = WarmPolicy::kGrowth * WarmPolicy::kGrowth * WarmPolicy::kFirstBackoff;
  ASSERT_EQ(p.next_backoff(), grown);
  // One fast region short of forgiving, then a slow one: the back-off keeps growing.
  ASSERT_EQ(warm_regions(p, WarmPolicy::kForgiveAfter - 1, kFast), WarmPolicy::kForgiveAfter - 1);
  EXPECT_FALSE(p.next_region(kSlow));
  EXPECT_EQ(warm_regions(p, grown - 1, kFast), 0);
  EXPECT_EQ(p.next_backoff(), WarmPolicy::kGrowth * grown);
  // Regions with no observation (no worker spun) neither forgive nor count against it.
  ASSERT_EQ(warm_regions(p, 2 * WarmPolicy::kForgiveAfter, kNone), 2 * WarmPolicy::kForgiveAfter);
  EXPECT_EQ(p.next_backoff(), WarmPolicy::kGrowth * grown);
  // kForgiveAfter fast regions in a row: the next slow stall costs only the first step again.
  ASSERT_EQ(warm_regions(p, WarmPolicy::kForgiveAfter, kFast), WarmPolicy::kForgiveAfter);
  EXPECT_EQ(p.next_backoff(), WarmPolicy::kFirstBackoff);
  EXPECT_FALSE(p.next_region(kSlow));
  EXPECT_EQ(warm_regions(p, WarmPolicy::kFirstBackoff - 1, kFast), 0);
  EXPECT_TRUE(p.next_region(kFast));
}

TEST(WarmPolicy, EnvironmentOverride) {
  EXPECT_EQ(warm_mode_from(nullptr), WarmMode::automatic);
  EXPECT_EQ(warm_mode_from(""), WarmMode::automatic);
  EXPECT_EQ(warm_mode_from("0"), WarmMode::never);
  EXPECT_EQ(warm_mode_from("1"), WarmMode::always);
  EXPECT_EQ(warm_mode_from("auto"), WarmMode::automatic);
}

}  // namespace
}  // namespace tessel::cpu
