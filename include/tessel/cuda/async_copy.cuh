// cp.async: small global -> shared copies that complete on an mbarrier, for data too scattered for a
// TMA box (one float per row of a tile, such as the 1x128 block scales of an fp8 gemm, which are
// stored [rows, k_blocks] so that a stage's column of them is strided by a whole row).
#pragma once

#include "tessel/cuda/barrier.cuh"
#include "tessel/cuda/common.cuh"

namespace tessel::cuda::async_copy {

// Starts copying 4 bytes from global `src` to shared `dst` (both 4-byte aligned). The thread does not
// wait; arrive_when_done() hands completion to a barrier.
TESSEL_DEVICE void copy_4(void* dst, const void* src) {
  asm volatile("cp.async.ca.shared.global [%0], [%1], 4;" ::"r"(smem_addr(dst)), "l"(src) : "memory");
}

// Arrives on `bar` once every copy this thread started before has landed in shared memory. The
// arrival is one of the barrier's expected arrivals (.noinc), so the barrier's count must include one
// per calling thread (Pipeline::init's producer_arrivals).
TESSEL_DEVICE void arrive_when_done(Barrier& bar) {
  asm volatile("cp.async.mbarrier.arrive.noinc.shared::cta.b64 [%0];" ::"r"(smem_addr(&bar)) : "memory");
}

}  // namespace tessel::cuda::async_copy
