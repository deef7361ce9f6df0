// TMA: bulk tensor copies between global memory and swizzled shared tiles, completing on mbarriers.
#pragma once

#include <cuda.h>

#include "tessel/cuda/barrier.cuh"
#include "tessel/cuda/common.cuh"

namespace tessel::cuda::tma {

// Tensor maps are kernel parameters (__grid_constant__), so their generic address is what TMA takes.
TESSEL_DEVICE void prefetch_map(const CUtensorMap& map) {
  asm volatile("prefetch.tensormap [%0];" ::"l"(reinterpret_cast<uint64_t>(&map)) : "memory");
}

// Copies the box at (col, row) of `map` into shared memory at `dst` and counts its bytes against
// `bar`'s expected transactions. Issued by one thread; the box size was fixed when the map was made.
// The hardware requires col * sizeof(element) to be a multiple of 16 bytes (else: illegal
// instruction) and dst to be 128-byte aligned; rows and out-of-bounds boxes are free.
TESSEL_DEVICE void load_async(void* dst, const CUtensorMap& map, int col, int row, Barrier& bar) {
  asm volatile(
      "cp.async.bulk.tensor.2d.shared::cluster.global.tile.mbarrier::complete_tx::bytes [%0], [%1, {%3, %4}], [%2];" ::
          "r"(smem_addr(dst)),
      "l"(reinterpret_cast<uint64_t>(&map)), "r"(smem_addr(&bar)), "r"(col), "r"(row)
      : "memory");
}

// load_async into the same offset of shared memory in every CTA of the cluster whose bit is set in
// `cta_mask`, completing on each one's barrier at `bar`'s offset. Each receiving CTA counts the bytes
// in its own expected transactions; the bytes may land before that CTA's arrive_expect_tx for the
// phase, which the barrier allows (its phase cannot complete while the producer's arrival is missing).
TESSEL_DEVICE void load_multicast(void* dst, const CUtensorMap& map, int col, int row, Barrier& bar,
                                  uint16_t cta_mask) {
  asm volatile(
      "cp.async.bulk.tensor.2d.shared::cluster.global.tile.mbarrier::complete_tx::bytes.multicast::cluster"
      " [%0], [%1, {%3, %4}], [%2], %5;" ::"r"(smem_addr(dst)),
      "l"(reinterpret_cast<uint64_t>(&map)), "r"(smem_addr(&bar)), "r"(col), "r"(row), "h"(cta_mask)
      : "memory");
}

// Copies a shared tile to the box at (col, row); elements outside the tensor are not written. The
// source must have been made visible with fence_proxy_async_smem() by every thread that wrote it.
TESSEL_DEVICE void store_async(const CUtensorMap& map, const void* src, int col, int row) {
  asm volatile("cp.async.bulk.tensor.2d.global.shared::cta.tile.bulk_group [%0, {%2, %3}], [%1];" ::"l"(
                   reinterpret_cast<uint64_t>(&map)),
               "r"(smem_addr(src)), "r"(col), "r"(row)
               : "memory");
}

// Stores are tracked in bulk groups by the issuing thread.
TESSEL_DEVICE void store_commit() { asm volatile("cp.async.bulk.commit_group;" ::: "memory"); }

// Waits until at most N committed store groups still read shared memory (their source may be reused).
template <int N>
TESSEL_DEVICE void store_wait_read() {
  asm volatile("cp.async.bulk.wait_group.read %0;" ::"n"(N) : "memory");
}

// Waits until at most N committed store groups are still writing global memory.
template <int N>
TESSEL_DEVICE void store_wait() {
  asm volatile("cp.async.bulk.wait_group %0;" ::"n"(N) : "memory");
}

}  // namespace tessel::cuda::tma
