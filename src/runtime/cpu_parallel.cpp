// The persistent CPU thread pool behind tessel::cpu::parallel_for.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#if defined(__unix__) || defined(__APPLE__)
#include <pthread.h>
#endif

#include "tessel/cpu/parallel.hpp"

namespace tessel::cpu {
namespace {

// Set on pool workers for their whole life and on a caller while it runs a region, so a nested
// parallel_for sees it and runs serially instead of waiting on workers that are busy with it.
thread_local bool t_inside_region = false;

// Spinning keeps back-to-back regions (a kernel called in a loop) from paying a futex wake-up per
// call; the bound keeps an idle pool from burning cores. A pause costs 10-140 cycles depending on
// the core, so this is roughly 10-100 us before a thread blocks.
constexpr int kSpinIterations = 2000;

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

class Pool {
 public:
  explicit Pool(int workers) {
    threads_.reserve(size_t(workers));
    for (int i = 0; i < workers; ++i) threads_.emplace_back([this, i] { worker_loop(i); });
  }

  ~Pool() {
    {
      std::lock_guard<std::mutex> lk(mutex_);
      stop_ = true;
    }
    wake_.notify_all();
    for (auto& t : threads_) t.join();
  }

  int workers() const { return int(threads_.size()); }

  // Workers spin until `seconds` from now (steady clock) even past kSpinIterations. Sleeping ones
  // are woken by a region of zero helpers, which every worker skips after counting itself in
  // awake_; the caller waits (up to 1 ms) until all have, so the deadline counts from a moment when
  // every worker is already spinning. The caller holds region_.
  void keep_warm(double seconds) {
    warm_until_ns_.store(now_ns() + int64_t(2e-3 * 1e9), std::memory_order_relaxed);  // covers the wake-up
    awake_.store(0, std::memory_order_relaxed);
    {
      std::lock_guard<std::mutex> lk(mutex_);
      const uint64_t gen = (state_.load(std::memory_order_relaxed) >> 16) + 1;
      state_.store(gen << 16, std::memory_order_release);
    }
    wake_.notify_all();
    const int64_t give_up = now_ns() + int64_t(1e6);
    while (awake_.load(std::memory_order_acquire) < workers() && now_ns() < give_up) cpu_relax();
    warm_until_ns_.store(now_ns() + int64_t(seconds * 1e9), std::memory_order_relaxed);
  }

  // Runs `chunks` chunks of [0, n) with the caller plus `helpers` workers. The caller holds region_.
  void run(int64_t n, int64_t chunks, int helpers, void (*call)(void*, int64_t, int64_t), void* ctx) {
    n_ = n;
    chunks_ = chunks;
    call_ = call;
    ctx_ = ctx;
    next_chunk_.store(0, std::memory_order_relaxed);
    pending_.store(helpers, std::memory_order_relaxed);
    {
      // Generation and helper count change together in one word, so a worker never pairs one
      // region's generation with another region's helper count.
      std::lock_guard<std::mutex> lk(mutex_);
      const uint64_t gen = (state_.load(std::memory_order_relaxed) >> 16) + 1;
      state_.store((gen << 16) | uint64_t(helpers), std::memory_order_release);
    }
    wake_.notify_all();
    run_chunks();
    // Wait for the helpers: they may still be inside a chunk, and they read ctx_, which lives on
    // the caller's stack.
    for (int s = 0; s < kSpinIterations && pending_.load(std::memory_order_acquire) != 0; ++s) cpu_relax();
    if (pending_.load(std::memory_order_acquire) != 0) {
      std::unique_lock<std::mutex> lk(mutex_);
      done_.wait(lk, [&] { return pending_.load(std::memory_order_acquire) == 0; });
    }
  }

  std::mutex& region() { return region_; }

 private:
  void run_chunks() {
    for (;;) {
      const int64_t c = next_chunk_.fetch_add(1, std::memory_order_relaxed);
      if (c >= chunks_) return;
      // The first n % C chunks get one extra index: sizes differ by at most one, the union is [0, n).
      const int64_t q = n_ / chunks_, r = n_ % chunks_;
      const int64_t begin = c * q + std::min(c, r);
      call_(ctx_, begin, begin + q + (c < r ? 1 : 0));
    }
  }

  void worker_loop(int index) {
    t_inside_region = true;
    uint64_t seen_gen = 0;
    for (;;) {
      uint64_t state = state_.load(std::memory_order_acquire);
      for (int64_t s = 0; (state >> 16) == seen_gen; ++s) {
        // Past the spin bound, spin on only while keep_warm's deadline holds (the clock is read
        // every 64 pauses: a read costs about as much as a few of them).
        if (s >= kSpinIterations && s % 64 == 0 && now_ns() >= warm_until_ns_.load(std::memory_order_relaxed)) break;
        cpu_relax();
        state = state_.load(std::memory_order_acquire);
      }
      if ((state >> 16) == seen_gen) {
        std::unique_lock<std::mutex> lk(mutex_);
        wake_.wait(lk, [&] {
          state = state_.load(std::memory_order_acquire);
          return stop_ || (state >> 16) != seen_gen;
        });
        if (stop_) return;
      }
      seen_gen = state >> 16;
      // Only the first `helpers` workers take part; the others go back to waiting and never touch
      // the region's data, which may already belong to the next region.
      if (index >= int(state & 0xffff)) {
        if ((state & 0xffff) == 0) awake_.fetch_add(1, std::memory_order_acq_rel);  // a keep_warm call
        continue;
      }
      run_chunks();
      if (pending_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
        std::lock_guard<std::mutex> lk(mutex_);
        done_.notify_all();
      }
    }
  }

  std::vector<std::thread> threads_;
  std::mutex mutex_;
  std::condition_variable wake_, done_;
  std::atomic<uint64_t> state_{0};  // (generation << 16) | helpers
  std::atomic<int64_t> next_chunk_{0};
  std::atomic<int> pending_{0};
  std::atomic<int64_t> warm_until_ns_{0};
  std::atomic<int> awake_{0};  // workers that have seen the latest keep_warm
  bool stop_ = false;
  std::mutex region_;  // one region at a time
  // The current region; written by the caller before the release store of state_.
  int64_t n_ = 0, chunks_ = 0;
  void (*call_)(void*, int64_t, int64_t) = nullptr;
  void* ctx_ = nullptr;
};

// A forked child has none of the pool's threads (only the forking thread survives), so waiting on
// them would hang; the child runs every region serially instead (e.g. gtest death tests).
std::atomic<bool> g_forked_child{false};

Pool& pool() {
  // The helper count travels in 16 bits of state_.
  static Pool p(std::min(hardware_threads() - 1, 0xffff));
#if defined(__unix__) || defined(__APPLE__)
  static const bool registered = [] {
    pthread_atfork(nullptr, nullptr, [] { g_forked_child.store(true); });
    return true;
  }();
  (void)registered;
#endif
  return p;
}

}  // namespace

int hardware_threads() {
  static const int n = std::max(1, int(std::thread::hardware_concurrency()));
  return n;
}

void keep_warm(double seconds) {
  if (!(seconds > 0) || hardware_threads() < 2 || t_inside_region || g_forked_child.load(std::memory_order_relaxed)) return;
  Pool& p = pool();
  std::unique_lock<std::mutex> lk(p.region(), std::try_to_lock);
  if (!lk.owns_lock() || p.workers() == 0) return;
  p.keep_warm(std::min(seconds, 0.1));
}

void parallel_for_erased(int64_t n, int threads, void (*call)(void*, int64_t, int64_t), void* ctx) {
  if (n <= 0) return;
  const int64_t want = threads > 0 ? threads : hardware_threads();
  const int64_t chunks = std::min(n, want);
  if (chunks <= 1 || t_inside_region || g_forked_child.load(std::memory_order_relaxed)) {
    call(ctx, 0, n);
    return;
  }
  Pool& p = pool();
  std::unique_lock<std::mutex> lk(p.region(), std::try_to_lock);
  if (!lk.owns_lock() || p.workers() == 0) {
    call(ctx, 0, n);
    return;
  }
  const int helpers = int(std::min<int64_t>(p.workers(), chunks - 1));
  t_inside_region = true;
  p.run(n, chunks, helpers, call, ctx);
  t_inside_region = false;
}

}  // namespace tessel::cpu
