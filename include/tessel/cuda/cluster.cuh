// Thread-block clusters: a CTA's rank in its cluster, the cluster-wide barrier, addresses of a peer
// CTA's shared memory, stores into it and barrier hand-offs across CTAs. Clusters let one TMA load
// feed several SMs (tma::load_multicast), and let CTAs that split one tile's K add their partials
// on chip (distributed shared memory) instead of through global memory.
#pragma once

#include "tessel/cuda/barrier.cuh"
#include "tessel/cuda/common.cuh"

namespace tessel::cuda::cluster {

// A launch of `grid` CTAs of `block` threads in clusters of `cluster_x` along x, for cudaLaunchKernelEx
// (`&launch.config`). The config points at its own attribute, so it is neither copied nor moved.
struct ClusterLaunch {
  cudaLaunchConfig_t config{};
  cudaLaunchAttribute attr{};
  ClusterLaunch(unsigned grid, unsigned block, unsigned cluster_x, size_t smem = 0, cudaStream_t stream = nullptr) {
    attr.id = cudaLaunchAttributeClusterDimension;
    attr.val.clusterDim.x = cluster_x;
    attr.val.clusterDim.y = 1;
    attr.val.clusterDim.z = 1;
    config.gridDim = dim3(grid);
    config.blockDim = dim3(block);
    config.dynamicSmemBytes = smem;
    config.stream = stream;
    config.attrs = &attr;
    config.numAttrs = 1;
  }
  ClusterLaunch(const ClusterLaunch&) = delete;
  ClusterLaunch& operator=(const ClusterLaunch&) = delete;
};

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

// sync() in two halves, for a CTA with work between saying it is done with its peers and waiting for
// them: every thread arrives once, later every thread waits (converged warps: both are .aligned).
TESSEL_DEVICE void arrive() {
  __syncwarp();
  asm volatile("barrier.cluster.arrive.release.aligned;" ::: "memory");
}
TESSEL_DEVICE void wait() { asm volatile("barrier.cluster.wait.acquire.aligned;" ::: "memory"); }

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

// Stores four floats at `peer_address` (a shared::cluster address from peer_addr) in a peer's shared memory.
TESSEL_DEVICE void store_v4(uint32_t peer_address, float a, float b, float c, float d) {
  asm volatile("st.shared::cluster.v4.f32 [%0], {%1, %2, %3, %4};" ::"r"(peer_address), "f"(a), "f"(b), "f"(c),
               "f"(d)
               : "memory");
}

// Arrives on CTA `peer`'s copy of `bar`, releasing at cluster scope: this thread's earlier stores into
// the peer's shared memory (store_v4) are visible to whoever completes the phase with wait_acquire.
TESSEL_DEVICE void arrive_release_on_peer(Barrier& bar, uint32_t peer) {
  asm volatile("mbarrier.arrive.release.cluster.shared::cluster.b64 _, [%0];" ::"r"(peer_addr(&bar, peer)) : "memory");
}

// Waits for the phase of parity `phase` of this CTA's `bar`, acquiring at cluster scope (the pair of
// arrive_release_on_peer).
TESSEL_DEVICE void wait_acquire(Barrier& bar, uint32_t phase) {
  uint32_t done = 0;
  while (!done) {
    asm volatile(
        "{\n .reg .pred p;\n mbarrier.try_wait.parity.acquire.cluster.shared::cta.b64 p, [%1], %2;\n selp.u32 %0, 1, 0, p;\n}"
        : "=r"(done)
        : "r"(smem_addr(&bar)), "r"(phase)
        : "memory");
  }
}

}  // namespace tessel::cuda::cluster
