// Tests for the CPU thread pool behind parallel_for: every index exactly once for any n and thread
// count, back-to-back regions while the workers fall asleep and wake at random moments (a late
// worker must neither run a chunk twice nor touch a finished region's data: ASan builds check that),
// nested calls, and regions from several caller threads at once.
#include "tessel/cpu/parallel.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <random>
#include <thread>
#include <vector>

namespace tessel::cpu {
namespace {

// Runs one region over [0, n) and checks that every index was visited exactly once.
void expect_each_index_once(int64_t n, int threads) {
  std::vector<std::atomic<int>> hits(static_cast<size_t>(n));
  for (auto& h : hits) h.store(0);
  parallel_for(n, threads, [&](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; ++i) hits[size_t(i)].fetch_add(1, std::memory_order_relaxed);
  });
  for (int64_t i = 0; i < n; ++i) ASSERT_EQ(hits[size_t(i)].load(), 1) << "index " << i << " of " << n << ", threads " << threads;
}

TEST(ParallelFor, CoversEveryIndexOnce) {
  for (int threads : {0, 1, 2, 3, 8}) {
    for (int64_t n : {1, 2, 3, 7, 64, 1001}) expect_each_index_once(n, threads);
  }
}

TEST(ParallelFor, BackToBackRegionsWithSleepingWorkers) {
  std::mt19937 rng(5);
  for (int region = 0; region < 3000; ++region) {
    // Pauses past the pool's spin window put the workers to sleep, so they wake late, at random:
    // up to 300 us is past the short spin, and 2.5 ms is past the 2 ms a warm pool spins.
    const int dice = int(rng() % 100);
    const int pause_us = dice < 25 ? int(rng() % 300) : dice < 27 ? 2500 : 0;
    if (pause_us > 0) std::this_thread::sleep_for(std::chrono::microseconds(pause_us));
    const int64_t n = 1 + int64_t(rng() % 5);
    expect_each_index_once(n, 0);
    if (HasFatalFailure()) return;
  }
}

TEST(ParallelFor, NestedCallsRunSerially) {
  std::atomic<int64_t> sum{0};
  parallel_for(4, 0, [&](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; ++i)
      parallel_for(10, 0, [&](int64_t a, int64_t b) { sum.fetch_add(b - a, std::memory_order_relaxed); });
  });
  EXPECT_EQ(sum.load(), 40);
}

TEST(ParallelFor, SeveralCallerThreads) {
  std::atomic<int> failures{0};
  std::vector<std::thread> callers;
  for (int t = 0; t < 4; ++t) {
    callers.emplace_back([&] {
      for (int r = 0; r < 500; ++r) {
        std::vector<std::atomic<int>> hits(37);
        for (auto& h : hits) h.store(0);
        parallel_for(37, 0, [&](int64_t lo, int64_t hi) {
          for (int64_t i = lo; i < hi; ++i) hits[size_t(i)].fetch_add(1);
        });
        for (auto& h : hits) if (h.load() != 1) failures.fetch_add(1);
      }
    });
  }
  for (auto& c : callers) c.join();
  EXPECT_EQ(failures.load(), 0);
}

}  // namespace
}  // namespace tessel::cpu
