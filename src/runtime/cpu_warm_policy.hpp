// WarmPolicy: whether the CPU pool's workers may keep spinning between regions, judged from how long
// the pool's threads were kept from running while workers spun.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>

namespace tessel::cpu {

// A worker that spins between regions picks the next one up without a futex wake-up, which costs
// 65-90 us a region on our 2-vCPU VM (a quarter of a 2-bit GEMV at k = 4096). That only pays while
// the worker has a core of its own. When it shares one (the VM's host runs both vCPUs on one
// physical core at times, or the process is pinned to fewer CPUs than it has threads), the spinning
// worker holds the core the caller needs, and a region waits out the whole spin window. A thread
// with a core of its own is never kept from running for long, so the pool measures how long its
// threads were, while workers spun (src/runtime/cpu_parallel.cpp):
//   - a spinning worker: how late it picked a region up, and gaps between its clock reads;
//   - the caller: wall time minus its thread's CPU time over its own chunks; how long after its
//     chunks and the helpers' ended it got to return; a gap between its clock reads while it waits
//     for keep_warm's workers, or workers that take over 1 ms to come; a region that comes only
//     after keep_warm's window has ended.
// It passes each region the longest of these since the last one (a "stall"), and this policy turns
// spinning off after a slow one, for a back-off that grows with each retry that fails again and
// starts over after a long run of fast regions.
//
// The back-off counts regions, not time: a benchmark posts a region every 10-50 ms (the cache flush
// between calls) and a model runtime thousands a second, and either way a failed retry costs one
// slow region. It starts short, because a worker on a healthy machine is also descheduled now and
// then (another process, the host), and grows fourfold per failed retry, so a machine stuck on one
// core pays for 5 slow regions in its first 400 and one in 4096 after that. The policy reads no
// clock and holds no lock (the pool calls it under its region lock), so tests drive it.
class WarmPolicy {
 public:
  // A spinning worker checks for work every pause and reads the clock every 64 pauses (a few us),
  // so a delay this long means it was descheduled. On our VM healthy threads still show stalls of
  // 60-190 us now and then (interrupts, the host), while one that shares a core waits out a time
  // slice, a spin window or the other thread's chunk: 1-4 ms and more in
  // bench/results/cpu/warm-pool-default-2026-11-29.txt.
  static constexpr int64_t kSlowNs = 250'000;
  // Regions without spinning after the first slow stall, the growth per failed retry, the most.
  static constexpr int kFirstBackoff = 4;
  static constexpr int kGrowth = 4;
  static constexpr int kMaxBackoff = 4096;
  // Fast regions in a row, while warm, after which the back-off starts over from the first step:
  // a slow stall grows the back-off only when it comes this soon after the last one, i.e. when the
  // retry itself failed (on a shared core the first warm regions are slow again). Healthy threads
  // on our VM are kept from running 0.5-1 ms now and then too (other processes wanting a CPU that
  // the spinning worker holds, the host's steal), a few times per 100 regions; each such stall
  // costs only the first step.
  static constexpr int kForgiveAfter = 4;

  // Called once per region (and per keep_warm) with the longest stall seen since the previous call
  // (-1: none seen, as when no worker spun). Returns whether the workers may spin through the warm window this time.
  // While cold, stalls are ignored: the workers only spin briefly then.
  bool next_region(int64_t stall_ns) {
    if (cold_left_ > 0) {
      --cold_left_;
      return false;
    }
    if (stall_ns >= kSlowNs) {
      cold_left_ = backoff_ - 1;  // this region is the first of them
      backoff_ = std::min(kGrowth * backoff_, kMaxBackoff);
      fast_in_a_row_ = 0;
      return false;
    }
    if (stall_ns >= 0 && ++fast_in_a_row_ >= kForgiveAfter) {
      backoff_ = kFirstBackoff;
      fast_in_a_row_ = 0;
    }
    return true;
  }

  // How many regions the next slow stall turns spinning off for.
  int next_backoff() const { return backoff_; }

 private:
  int cold_left_ = 0;
  int backoff_ = kFirstBackoff;
  int fast_in_a_row_ = 0;
};

// TESSEL_CPU_WARM_POOL overrides the policy: "0" never spins past the short spin, "1" always spins
// through the warm window, anything else (or unset) lets WarmPolicy decide.
enum class WarmMode { never, automatic, always };

inline WarmMode warm_mode_from(const char* env_value) {
  if (env_value && std::strcmp(env_value, "0") == 0) return WarmMode::never;
  if (env_value && std::strcmp(env_value, "1") == 0) return WarmMode::always;
  return WarmMode::automatic;
}

}  // namespace tessel::cpu
