// The producer/consumer stage ring: full/empty mbarriers per stage and the phase bits that walk them.
#pragma once

#include "tessel/cuda/barrier.cuh"
#include "tessel/cuda/cluster.cuh"

namespace tessel::cuda {

// Where one side of the ring is: the stage it touches next and the parity of that stage's current pass.
// Producer and consumer each keep their own and advance it after every stage, across tiles too, so a
// persistent kernel's producer runs ahead into the next tile while the consumers finish this one.
template <int Stages>
struct RingPosition {
  int stage = 0;
  uint32_t phase = 0;
  TESSEL_DEVICE void advance() {
    if (++stage == Stages) {
      stage = 0;
      phase ^= 1u;
    }
  }
};

// Pipeline<Stages>: lives in shared memory. full[s] completes when stage s's TMA bytes have landed
// (the producer's arrivals plus the transactions); empty[s] completes when every consumer arrival has
// come in, which means the consumers finished reading stage s and the producer may overwrite it.
template <int Stages>
struct Pipeline {
  static_assert(Stages >= 2, "a ring needs at least two stages to overlap load and compute");
  static constexpr int stages = Stages;
  Barrier full[Stages];
  Barrier empty[Stages];

  // One thread initializes, then the CTA synchronizes before anyone waits. producer_arrivals is 1 (the
  // TMA thread's arrive_expect_tx) plus one per thread that also fills the stage with cp.async
  // copies and signs off with async_copy::arrive_when_done.
  TESSEL_DEVICE void init(int consumer_arrivals, int producer_arrivals = 1) {
    for (int s = 0; s < Stages; ++s) {
      cuda::init(full[s], producer_arrivals);
      cuda::init(empty[s], consumer_arrivals);
    }
    fence_barrier_init();
  }

  // Producer: waits until stage `p.stage` is free, then announces the bytes it is about to load and
  // returns the barrier its TMA loads complete on. The first pass over a fresh ring does not block:
  // it waits on the parity before the barriers' first phase.
  TESSEL_DEVICE Barrier& producer_acquire(const RingPosition<Stages>& p, uint32_t bytes) {
    producer_wait(p);
    arrive_expect_tx(full[p.stage], bytes);
    return full[p.stage];
  }
  // Producer: waits until stage `p.stage` is free, without arriving. Threads that fill the stage
  // with cp.async beside the TMA thread wait here before they write.
  TESSEL_DEVICE void producer_wait(const RingPosition<Stages>& p) { wait(empty[p.stage], p.phase ^ 1u); }

  // Consumer: waits until stage `p.stage` holds data.
  TESSEL_DEVICE void consumer_wait(const RingPosition<Stages>& p) { wait(full[p.stage], p.phase); }
  // Consumer: hands stage `stage` back; each of the consumer_arrivals arrivers calls it once per pass.
  TESSEL_DEVICE void consumer_release(int stage) { arrive(empty[stage]); }
  // Consumer in a cluster whose producers multicast into each other's stages: hands stage `stage`
  // back to every CTA of the cluster, since any of their producers may overwrite it. Each CTA's
  // empty barriers then count consumer_arrivals * ClusterSize arrivals.
  template <int ClusterSize>
  TESSEL_DEVICE void consumer_release_cluster(int stage) {
    if constexpr (ClusterSize == 1) {
      arrive(empty[stage]);
    } else {
      const uint32_t me = cluster::rank();
#pragma unroll
      for (int r = 0; r < ClusterSize; ++r) {
        if (static_cast<uint32_t>(r) == me) {
          arrive(empty[stage]);
        } else {
          cluster::arrive_on_peer(empty[stage], static_cast<uint32_t>(r));
        }
      }
    }
  }
};

}  // namespace tessel::cuda
