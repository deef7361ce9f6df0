// parallel_for: splits an index range into chunks and runs them on a small persistent thread pool.
#pragma once

#include <cstdint>
#include <memory>
#include <type_traits>

namespace tessel::cpu {

// Hardware threads the pool can use (at least 1).
int hardware_threads();

// Wakes the pool's workers that sleep, waits (up to 1 ms) until they run, and asks them to spin
// instead of sleeping for the next `seconds` (capped at 0.1 s), so a parallel_for started in that
// time pays no futex wake-up (tens of microseconds on a VM). A benchmark harness calls this just
// before a timed call (see cpu_backend.cpp); the cost is a core spinning for that long, so ordinary
// callers never need it. Like the warm window after each region (see parallel_for), it does
// nothing while the pool is cold, and nothing at all with TESSEL_CPU_WARM_POOL=0.
void keep_warm(double seconds);

// The type-erased entry point behind parallel_for. `call(ctx, begin, end)` runs one chunk.
void parallel_for_erased(int64_t n, int threads, void (*call)(void*, int64_t, int64_t), void* ctx);

// Calls fn(begin, end) over contiguous chunks that together cover [0, n) exactly once, using up to
// `threads` threads (0: all hardware threads); the calling thread runs chunks too. Returns when
// every chunk has finished. There are at most `threads` chunks, each of at least one index, and
// chunk sizes differ by at most one, so a caller that wants one chunk per thread passes n = threads.
//
// Calls made from inside a chunk, or while another thread holds the pool, run serially on the
// calling thread (fn(0, n)), so nesting never deadlocks. fn must not throw.
//
// After a region the workers spin briefly (10-100 us) and then sleep. While the pool is warm they
// spin 2 ms instead, so back-to-back calls pay no futex wake-up. The pool starts warm and turns
// cold by itself for a while (4 regions, fourfold more up to 4096 while retries fail) when a spinning
// worker is seen not to run, e.g. when it shares a core with the caller. TESSEL_CPU_WARM_POOL=0
// keeps it cold, =1 warm (src/runtime/cpu_warm_policy.hpp).
template <class F>
void parallel_for(int64_t n, int threads, F&& fn) {
  using Fn = std::remove_reference_t<F>;
  parallel_for_erased(
      n, threads,
      [](void* ctx, int64_t begin, int64_t end) { (*static_cast<Fn*>(ctx))(begin, end); },
      const_cast<void*>(static_cast<const void*>(std::addressof(fn))));
}

}  // namespace tessel::cpu
