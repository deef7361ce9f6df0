// Unit tests of the CPU kernel building blocks: parallel_for and the gemm panel packing.
// (Op results are checked by verify in ops_verify_test.cpp, through the one harness path.)
#include "tessel/cpu/parallel.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#if defined(__unix__)
#include <sys/wait.h>
#include <unistd.h>
#endif

// The packing helpers live in src/ops/gemm/cpu.cpp, explicitly instantiated for float and bf16
// (uint16_t) sources; a mismatch with these declarations fails at link time.
namespace tessel::gemm::detail {
template <class T>
void pack_a(const T* a, int64_t lda, int64_t rows, int64_t kc, int mr, float* dst);
template <class T>
void pack_b(const T* b, int64_t sk, int64_t sj, int64_t kc, int64_t cols, int nr, float* dst);
}  // namespace tessel::gemm::detail

namespace tessel {
namespace {

// ---- parallel_for ---------------------------------------------------------------------------------

struct Chunk {
  int64_t begin, end;
};

// Runs parallel_for and returns its chunks sorted by begin, checking each index is visited once.
std::vector<Chunk> run_and_collect(int64_t n, int threads) {
  std::vector<std::atomic<int>> hits(size_t(std::max<int64_t>(n, 0)));
  std::mutex mu;
  std::vector<Chunk> chunks;
  cpu::parallel_for(n, threads, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) hits[size_t(i)].fetch_add(1, std::memory_order_relaxed);
    std::lock_guard<std::mutex> lk(mu);
    chunks.push_back({begin, end});
  });
  for (int64_t i = 0; i < n; ++i) EXPECT_EQ(hits[size_t(i)].load(), 1) << "index " << i << " n=" << n;
  std::sort(chunks.begin(), chunks.end(), [](const Chunk& a, const Chunk& b) { return a.begin < b.begin; });
  return chunks;
}

TEST(ParallelFor, CoversEveryIndexExactlyOnce) {
  for (int64_t n : {1, 2, 3, 5, 7, 16, 100, 1000, 12345}) {
    for (int threads : {0, 1, 2, 3, 4, 8, 64}) {
      const auto chunks = run_and_collect(n, threads);
      ASSERT_FALSE(chunks.empty());
      // Contiguous, non-empty, in order, and together exactly [0, n).
      int64_t next = 0;
      for (const Chunk& c : chunks) {
        EXPECT_EQ(c.begin, next) << "n=" << n << " threads=" << threads;
        EXPECT_LT(c.begin, c.end);
        next = c.end;
      }
      EXPECT_EQ(next, n);
    }
  }
}

TEST(ParallelFor, ZeroAndNegativeSizesNeverCall) {
  int calls = 0;
  cpu::parallel_for(0, 0, [&](int64_t, int64_t) { ++calls; });
  cpu::parallel_for(0, 4, [&](int64_t, int64_t) { ++calls; });
  cpu::parallel_for(-3, 4, [&](int64_t, int64_t) { ++calls; });
  EXPECT_EQ(calls, 0);
}

TEST(ParallelFor, SizeOneIsOneCallOnTheCaller) {
  const auto caller = std::this_thread::get_id();
  int calls = 0;
  cpu::parallel_for(1, 8, [&](int64_t b, int64_t e) {
    ++calls;
    EXPECT_EQ(b, 0);
    EXPECT_EQ(e, 1);
    EXPECT_EQ(std::this_thread::get_id(), caller);
  });
  EXPECT_EQ(calls, 1);
}

TEST(ParallelFor, MoreThreadsThanIndicesGivesSingletonChunks) {
  const auto chunks = run_and_collect(3, 64);
  ASSERT_EQ(chunks.size(), 3u);
  for (const Chunk& c : chunks) EXPECT_EQ(c.end - c.begin, 1);
}

TEST(ParallelFor, ChunksAreBalancedAndAtMostThreads) {
  for (int threads : {1, 2, 3, 7}) {
    const auto chunks = run_and_collect(100, threads);
    EXPECT_EQ(int(chunks.size()), threads);
    int64_t lo = INT64_MAX, hi = 0;
    for (const Chunk& c : chunks) {
      lo = std::min(lo, c.end - c.begin);
      hi = std::max(hi, c.end - c.begin);
    }
    EXPECT_LE(hi - lo, 1) << "threads=" << threads;
  }
}

TEST(ParallelFor, OneThreadRunsSeriallyOnTheCaller) {
  const auto caller = std::this_thread::get_id();
  int calls = 0;
  cpu::parallel_for(1000, 1, [&](int64_t b, int64_t e) {
    ++calls;
    EXPECT_EQ(b, 0);
    EXPECT_EQ(e, 1000);
    EXPECT_EQ(std::this_thread::get_id(), caller);
  });
  EXPECT_EQ(calls, 1);
}

TEST(ParallelFor, NestedCallsRunSeriallyAndCoverTheirRange) {
  constexpr int64_t kOuter = 8, kInner = 50;
  std::vector<std::atomic<int>> hits(kOuter * kInner);
  cpu::parallel_for(kOuter, 0, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      const auto me = std::this_thread::get_id();
      int inner_calls = 0;
      cpu::parallel_for(kInner, 0, [&](int64_t ib, int64_t ie) {
        ++inner_calls;  // serial: no data race on this counter
        EXPECT_EQ(std::this_thread::get_id(), me);
        for (int64_t j = ib; j < ie; ++j) hits[size_t(i * kInner + j)].fetch_add(1);
      });
      EXPECT_EQ(inner_calls, 1);
    }
  });
  for (auto& h : hits) EXPECT_EQ(h.load(), 1);
}

TEST(ParallelFor, ManyBackToBackRegions) {
  // Catches lost wake-ups and stale region data: thousands of tiny regions, each fully checked.
  for (int rep = 0; rep < 5000; ++rep) {
    const int64_t n = 1 + rep % 9;
    std::atomic<int64_t> sum{0};
    cpu::parallel_for(n, 0, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) sum.fetch_add(i + 1);
    });
    ASSERT_EQ(sum.load(), n * (n + 1) / 2) << "rep " << rep;
  }
}

TEST(ParallelFor, ConcurrentCallersFromSeveralThreads) {
  // Only one region holds the pool at a time; the others run serially, and all stay correct.
  constexpr int kCallers = 4;
  std::vector<std::thread> callers;
  std::atomic<int> failures{0};
  for (int t = 0; t < kCallers; ++t) {
    callers.emplace_back([&] {
      for (int rep = 0; rep < 200; ++rep) {
        std::vector<std::atomic<int>> hits(257);
        cpu::parallel_for(257, 0, [&](int64_t b, int64_t e) {
          for (int64_t i = b; i < e; ++i) hits[size_t(i)].fetch_add(1);
        });
        for (auto& h : hits)
          if (h.load() != 1) failures.fetch_add(1);
      }
    });
  }
  for (auto& c : callers) c.join();
  EXPECT_EQ(failures.load(), 0);
}

TEST(ParallelFor, UsesMoreThanOneThreadWhenAvailable) {
  if (cpu::hardware_threads() < 2) GTEST_SKIP() << "one hardware thread";
  std::mutex mu;
  std::vector<std::thread::id> ids;
  std::atomic<int> started{0};
  cpu::parallel_for(2, 2, [&](int64_t, int64_t) {
    // Each chunk waits for the other to start: only two threads can get past this (or the
    // deadline, generous for a loaded machine, runs out and the test fails below).
    started.fetch_add(1);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (started.load() < 2 && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
    std::lock_guard<std::mutex> lk(mu);
    ids.push_back(std::this_thread::get_id());
  });
  ASSERT_EQ(ids.size(), 2u);
  EXPECT_EQ(started.load(), 2);
  EXPECT_NE(ids[0], ids[1]);
}

TEST(ParallelFor, AcceptsConstAndTemporaryCallables) {
  std::atomic<int64_t> total{0};
  const auto add = [&](int64_t b, int64_t e) { total.fetch_add(e - b); };
  cpu::parallel_for(10, 2, add);
  cpu::parallel_for(10, 2, [&](int64_t b, int64_t e) { total.fetch_add(e - b); });
  EXPECT_EQ(total.load(), 20);
}

#if defined(__unix__)
TEST(ParallelFor, ForkedChildRunsSeriallyInsteadOfHanging) {
  cpu::parallel_for(4, 2, [](int64_t, int64_t) {});  // the pool exists before the fork
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    alarm(20);  // a hang in the child becomes a failure, not a stuck test
    std::atomic<int64_t> sum{0};
    cpu::parallel_for(100, 0, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) sum.fetch_add(i);
    });
    _exit(sum.load() == 4950 ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "child status " << status;
}
#endif

// ---- gemm packing ------------------------------------------------------------------------------------

uint16_t bf16_of(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  return uint16_t(u >> 16);  // the test values are exact in bf16
}

TEST(GemmPacking, PackAInterleavesRowsAndZeroPadsThePanel) {
  // A is 5 x 3 inside a row-major buffer with lda = 4; element (i, p) = 10 * i + p + 1.
  constexpr int64_t kRows = 5, kK = 3, kLda = 4;
  constexpr int kMr = 4;
  std::vector<float> a(kRows * kLda, -99.0f);
  for (int64_t i = 0; i < kRows; ++i)
    for (int64_t p = 0; p < kK; ++p) a[size_t(i * kLda + p)] = float(10 * i + p + 1);
  std::vector<float> packed(2 * kK * kMr, -1.0f);  // two panels of [kK][kMr]
  gemm::detail::pack_a(a.data(), kLda, kRows, kK, kMr, packed.data());
  for (int64_t panel = 0; panel < 2; ++panel)
    for (int64_t p = 0; p < kK; ++p)
      for (int64_t r = 0; r < kMr; ++r) {
        const int64_t i = panel * kMr + r;
        const float want = i < kRows ? float(10 * i + p + 1) : 0.0f;
        EXPECT_EQ(packed[size_t(panel * kK * kMr + p * kMr + r)], want) << "panel " << panel << " p " << p << " r " << r;
      }
}

TEST(GemmPacking, PackAConvertsBf16) {
  const std::vector<uint16_t> a = {bf16_of(1.5f), bf16_of(-2.0f), bf16_of(0.25f), bf16_of(3.0f)};  // 2 x 2
  std::vector<float> packed(2 * 3);
  gemm::detail::pack_a(a.data(), 2, 2, 2, 3, packed.data());
  EXPECT_EQ(packed, (std::vector<float>{1.5f, 0.25f, 0.0f, -2.0f, 3.0f, 0.0f}));
}

// B element (p, j) = 100 * p + j + 1 in either layout; packs cols x kc into panels of nr.
void check_pack_b(bool kn, int64_t kc, int64_t cols, int nr, int64_t extra_stride) {
  const int64_t panels = (cols + nr - 1) / nr;
  std::vector<float> b;
  int64_t sk, sj;
  if (kn) {  // [K, N] row-major with row stride cols + extra
    sk = cols + extra_stride;
    sj = 1;
    b.assign(size_t(kc * sk), -99.0f);
  } else {  // [N, K] row-major with row stride kc + extra
    sk = 1;
    sj = kc + extra_stride;
    b.assign(size_t(cols * sj), -99.0f);
  }
  for (int64_t p = 0; p < kc; ++p)
    for (int64_t j = 0; j < cols; ++j) b[size_t(p * sk + j * sj)] = float(100 * p + j + 1);
  std::vector<float> packed(size_t(panels * kc * nr), -1.0f);
  gemm::detail::pack_b(b.data(), sk, sj, kc, cols, nr, packed.data());
  for (int64_t q = 0; q < panels; ++q)
    for (int64_t p = 0; p < kc; ++p)
      for (int64_t c = 0; c < nr; ++c) {
        const int64_t j = q * nr + c;
        const float want = j < cols ? float(100 * p + j + 1) : 0.0f;
        ASSERT_EQ(packed[size_t(q * kc * nr + p * nr + c)], want)
            << (kn ? "kn" : "nk") << " kc=" << kc << " cols=" << cols << " nr=" << nr << " q=" << q << " p=" << p
            << " c=" << c;
      }
}

TEST(GemmPacking, PackBBothLayoutsWithTails) {
  for (bool kn : {true, false})
    for (int64_t kc : {1, 3, 17, 40})
      for (int64_t cols : {1, 5, 8, 13, 33})
        for (int nr : {4, 8, 32}) check_pack_b(kn, kc, cols, nr, kn ? 3 : 2);
}

TEST(GemmPacking, PackBConvertsBf16) {
  // [N=2, K=2] (b=nk): element (p, j) at b[j * 2 + p].
  const std::vector<uint16_t> b = {bf16_of(1.0f), bf16_of(2.0f), bf16_of(-4.0f), bf16_of(0.5f)};
  std::vector<float> packed(2 * 4);
  gemm::detail::pack_b(b.data(), 1, 2, 2, 2, 4, packed.data());
  EXPECT_EQ(packed, (std::vector<float>{1.0f, -4.0f, 0.0f, 0.0f, 2.0f, 0.5f, 0.0f, 0.0f}));
}

}  // namespace
}  // namespace tessel
