// Thread-block clusters: a CTA's rank in its cluster, the cluster-wide barrier, and addresses of a
// peer CTA's shared memory. Clusters let one TMA load feed several SMs (tma::load_multicast), which
// cuts the L2 traffic of an operand that CTAs side by side all read.
#pragma once

#include "tessel/cuda/barrier.cuh"
#include "tessel/cuda/common.cuh"

namespace tessel::cuda::cluster {

// This CTA's rank in its cluster (0 when launched without clusters).
TESSEL_DEVICE uint32_t rank() {
  uint32_t r;
  asm volatile("mov.u32 %0, %%cluster_ctarank;" : "=r"(r));
  return r;
}

// Every thread of every CTA in the cluster arrives, then waits for all the others. Needed after the
// mbarriers are initialized (a peer may signal them as soon as it runs) and before a CTA exits (a
// peer may still signal this CTA's barriers). All threads must call it: the instructions are .aligned.
TESSEL_DEVICE void sync() {
  __syncwarp();  // .aligned: the warp must arrive converged (one lane may come from a producer loop)
  asm volatile("barrier.cluster.arrive.release.aligned;\n\tbarrier.cluster.wait.acquire.aligned;" ::: "memory");
}

// The shared::cluster address of `p` (an address in this CTA's shared memory) in CTA `peer`'s copy.
TESSEL_DEVICE uint32_t peer_addr(const void* p, uint32_t peer) {
  uint32_t out;
  asm volatile("mapa.shared::cluster.u32 %0, %1, %2;" : "=r"(out) : "r"(smem_addr(p)), "r"(peer));
  return out;
}

// Arrives on CTA `peer`'s copy of `bar` (the same offset in its shared memory). The arrival keeps the
// default CTA-scope release: what it hands back is a stage that wgmma (the async proxy, already waited
// on) read and that a TMA load will overwrite. (A .release.cluster arrival also orders this thread's
// generic memory traffic cluster-wide; with it on every stage, clusters of two ran at half speed.)
TESSEL_DEVICE void arrive_on_peer(Barrier& bar, uint32_t peer) {
  asm volatile("mbarrier.arrive.shared::cluster.b64 _, [%0];" ::"r"(peer_addr(&bar, peer)) : "memory");
}

}  // namespace tessel::cuda::cluster
