// The persistent CPU thread pool behind tessel::cpu::parallel_for.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <ctime>
#include <mutex>
#include <thread>
#include <vector>

#if defined(__unix__) || defined(__APPLE__)
#include <pthread.h>
#endif

#include "cpu_warm_policy.hpp"
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

// While warm (WarmPolicy, TESSEL_CPU_WARM_POOL), a worker spins this long after each region before
// it blocks, as ggml's OpenMP workers spin between calls: long enough to bridge the serial work
// between the kernels of a model step, short enough that an idle pool soon stops burning a core.
constexpr int64_t kWarmWindowNs = 2'000'000;

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// CPU time of the calling thread, -1 where unknown. Where the guest kernel accounts steal time
// (Linux with PARAVIRT_TIME_ACCOUNTING, as on our VM), time the host gave another vCPU is left out.
int64_t thread_cpu_ns() {
#if defined(__unix__) && defined(CLOCK_THREAD_CPUTIME_ID)
  timespec ts;
  if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) == 0) return int64_t(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
#endif
  return -1;
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
  explicit Pool(int workers) : mode_(warm_mode_from(std::getenv("TESSEL_CPU_WARM_POOL"))) {
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
  // every worker is already spinning. Nothing happens while the pool is cold. The caller holds
  // region_.
  void keep_warm(double seconds) {
    if (!warm_now()) return;
    warm_until_ns_.store(now_ns() + int64_t(2e-3 * 1e9), std::memory_order_relaxed);  // covers the wake-up
    awake_.store(0, std::memory_order_relaxed);
    {
      std::lock_guard<std::mutex> lk(mutex_);
      const uint64_t gen = (state_.load(std::memory_order_relaxed) >> 16) + 1;
      state_.store(gen << 16, std::memory_order_release);
    }
    wake_.notify_all();
    const int64_t start = now_ns();
    for (int64_t last = start, t = start; awake_.load(std::memory_order_acquire) < workers(); last = t) {
      cpu_relax();
      t = now_ns();
      if (t - last < WarmPolicy::kSlowNs && t - start < int64_t(1e6)) continue;
      // The caller was descheduled while it waited, or a worker did not run within 1 ms (a futex
      // wake-up takes 65-90 us): they share a core, and spinning would hold it through the
      // caller's region. Unless told to stay warm, stop the spinning now, before that region.
      if (mode_ == WarmMode::always) break;
      note_stall(t - start);
      warm_until_ns_.store(0, std::memory_order_relaxed);
      return;
    }
    kept_warm_ns_ = now_ns();
    warm_until_ns_.store(kept_warm_ns_ + int64_t(seconds * 1e9), std::memory_order_relaxed);
  }

  // Runs `chunks` chunks of [0, n) with the caller plus `helpers` workers. The caller holds region_.
  void run(int64_t n, int64_t chunks, int helpers, void (*call)(void*, int64_t, int64_t), void* ctx) {
    n_ = n;
    chunks_ = chunks;
    call_ = call;
    ctx_ = ctx;
    // keep_warm is called just before a region. One that comes only after the workers stopped
    // spinning for it is the other face of a shared core: the caller could not run while they spun
    // (the worker, never descheduled, saw nothing). It counts as a stall of that length.
    if (kept_warm_ns_ != 0) {
      const int64_t now = now_ns();
      if (now >= warm_until_ns_.load(std::memory_order_relaxed)) note_stall(now - kept_warm_ns_);
      kept_warm_ns_ = 0;
    }
    warm_window_ns_ = warm_now() ? kWarmWindowNs : 0;
    next_chunk_.store(0, std::memory_order_relaxed);
    pending_.store(helpers, std::memory_order_relaxed);
    helpers_done_ns_.store(0, std::memory_order_relaxed);
    {
      // Generation and helper count change together in one word, so a worker never pairs one
      // region's generation with another region's helper count.
      std::lock_guard<std::mutex> lk(mutex_);
      const uint64_t gen = (state_.load(std::memory_order_relaxed) >> 16) + 1;
      posted_ns_ = now_ns();  // as late as possible: the caller's own delays are not the worker's
      state_.store((gen << 16) | uint64_t(helpers), std::memory_order_release);
    }
    wake_.notify_all();
    // Wall time the caller spends off the CPU during its own chunks is time it was kept from running.
    // That is the trap a worker's stalls miss: the worker finishes its chunk and spins out its warm
    // window on the core the caller needs, so the call takes that whole window.
    const int64_t wall0 = now_ns();
    const int64_t cpu0 = mode_ == WarmMode::automatic && warm_window_ns_ > 0 ? thread_cpu_ns() : -1;
    run_chunks();
    const int64_t own_done = now_ns();
    if (cpu0 >= 0) note_stall((own_done - wall0) - (thread_cpu_ns() - cpu0));
    // Wait for the helpers: they may still be inside a chunk, and they read ctx_, which lives on
    // the caller's stack.
    for (int s = 0; s < kSpinIterations && pending_.load(std::memory_order_acquire) != 0; ++s) cpu_relax();
    if (pending_.load(std::memory_order_acquire) != 0) {
      std::unique_lock<std::mutex> lk(mutex_);
      done_.wait(lk, [&] { return pending_.load(std::memory_order_acquire) == 0; });
    }
    // The same trap after the caller's chunks: woken when the last helper is done, it waits for a
    // core while that helper spins out its new window. Resuming takes a futex wake-up on a core of
    // its own, so the time from the later of the two ends is time it was kept from running.
    if (cpu0 >= 0) note_stall(now_ns() - std::max(own_done, helpers_done_ns_.load(std::memory_order_relaxed)));
  }

  std::mutex& region() { return region_; }

 private:
  // Whether workers may spin past kSpinIterations now, after feeding the policy the longest stall
  // seen since the last call. The caller holds region_, so the policy has one thread at a time.
  bool warm_now() {
    if (mode_ != WarmMode::automatic) return mode_ == WarmMode::always;
    return policy_.next_region(stall_ns_.exchange(-1, std::memory_order_relaxed));
  }

  // Keeps the longest time one of the pool's threads was seen kept from running while workers spun
  // (a stall, see cpu_warm_policy.hpp), until warm_now() collects it.
  void note_stall(int64_t ns) {
    int64_t seen = stall_ns_.load(std::memory_order_relaxed);
    while (ns > seen && !stall_ns_.compare_exchange_weak(seen, ns, std::memory_order_relaxed)) {
    }
  }

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
    int64_t spin_until = 0;  // the end of this worker's warm window after its last region
    for (;;) {
      uint64_t state = state_.load(std::memory_order_acquire);
      const int64_t spin_start = now_ns();
      int64_t last_read = spin_start;
      for (int64_t s = 1; (state >> 16) == seen_gen; ++s) {
        // The clock is read every 64 pauses (a read costs about as much as a few of them). A long
        // gap between two reads means this thread was descheduled while it spun; past the spin
        // bound, it spins on only inside its warm window or keep_warm's.
        if (s % 64 == 0) {
          const int64_t t = now_ns();
          note_stall(t - last_read);
          last_read = t;
          if (s >= kSpinIterations && t >= std::max(spin_until, warm_until_ns_.load(std::memory_order_relaxed))) break;
        }
        cpu_relax();
        state = state_.load(std::memory_order_acquire);
      }
      const bool spun = (state >> 16) != seen_gen;
      if (!spun) {
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
      // Found while spinning: how long this worker took to react to the region, counted from when it
      // began to spin if that was later (a new thread's start-up is not a stall).
      if (spun) note_stall(now_ns() - std::max(posted_ns_, spin_start));
      const int64_t window = warm_window_ns_;  // read before pending_ lets the caller post again
      run_chunks();
      // Before pending_ releases the caller, which reads it after its wait.
      for (int64_t t = now_ns(), seen = helpers_done_ns_.load(std::memory_order_relaxed);
           t > seen && !helpers_done_ns_.compare_exchange_weak(seen, t, std::memory_order_relaxed);) {
      }
      if (pending_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
        std::lock_guard<std::mutex> lk(mutex_);
        done_.notify_all();
      }
      spin_until = now_ns() + window;
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
  std::atomic<int64_t> stall_ns_{-1};  // the longest stall not yet collected; -1: none seen
  std::atomic<int64_t> helpers_done_ns_{0};  // when the current region's last helper finished
  bool stop_ = false;
  const WarmMode mode_;
  std::mutex region_;  // one region at a time
  WarmPolicy policy_;  // under region_
  int64_t kept_warm_ns_ = 0;  // when the last keep_warm, not yet followed by a region, returned
  // The current region; written by the caller before the release store of state_.
  int64_t n_ = 0, chunks_ = 0, posted_ns_ = 0, warm_window_ns_ = 0;
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
