// mbarrier helpers: the shared-memory barriers that TMA completes and pipelines wait on.
#pragma once

#include "tessel/cuda/common.cuh"

namespace tessel::cuda {

// An mbarrier lives in shared memory as one 64-bit word. Its phase flips each time the expected
// arrivals (and, for TMA, the expected transaction bytes) are all in. Waiters name the parity of the
// phase they wait to see complete, so a ring of barriers needs one phase bit per pass, not a counter.
struct alignas(8) Barrier {
  uint64_t word;
};

// Sets the arrival count. One thread initializes; fence_barrier_init() then makes it visible to the
// async proxy before any TMA may signal the barrier.
TESSEL_DEVICE void init(Barrier& bar, int arrivals) {
  asm volatile("mbarrier.init.shared::cta.b64 [%0], %1;" ::"r"(smem_addr(&bar)), "r"(arrivals)
               : "memory");
}

TESSEL_DEVICE void fence_barrier_init() {
  asm volatile("fence.mbarrier_init.release.cluster;" ::: "memory");
}

TESSEL_DEVICE void arrive(Barrier& bar) {
  asm volatile(
      "{\n .reg .b64 state;\n mbarrier.arrive.shared::cta.b64 state, [%0];\n}" ::"r"(smem_addr(&bar))
      : "memory");
}

// Arrives and announces `bytes` of TMA transactions that must also land before the phase completes.
TESSEL_DEVICE void arrive_expect_tx(Barrier& bar, uint32_t bytes) {
  asm volatile(
      "{\n .reg .b64 state;\n mbarrier.arrive.expect_tx.shared::cta.b64 state, [%0], %1;\n}" ::"r"(
          smem_addr(&bar)),
      "r"(bytes)
      : "memory");
}

// True once the phase of parity `phase` has completed. A fresh barrier is in phase 0, so waiting for
// parity 1 succeeds at once: that is how a producer sees an empty ring on its first pass.
TESSEL_DEVICE bool test_wait(Barrier& bar, uint32_t phase) {
  uint32_t done;
  asm volatile(
      "{\n .reg .pred p;\n mbarrier.try_wait.parity.shared::cta.b64 p, [%1], %2;\n selp.u32 %0, 1, 0, p;\n}"
      : "=r"(done)
      : "r"(smem_addr(&bar)), "r"(phase)
      : "memory");
  return done != 0;
}

// Blocks until the phase of parity `phase` completes. try_wait suspends in hardware for a bounded
// time, so the loop is not a hot spin.
TESSEL_DEVICE void wait(Barrier& bar, uint32_t phase) {
  while (!test_wait(bar, phase)) {
  }
}

}  // namespace tessel::cuda
