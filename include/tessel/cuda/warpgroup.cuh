// Warpgroup helpers: register reallocation between roles and named barriers within a group.
#pragma once

#include "tessel/cuda/common.cuh"

namespace tessel::cuda::warpgroup {

// setmaxnreg moves registers between warpgroups of one CTA: producers give theirs up so consumers
// can hold large accumulator tiles. It only takes effect when the kernel has a register cap at entry
// (__launch_bounds__(threads, 1)) and each role is one branch of a single if/else.
template <int Regs>
TESSEL_DEVICE void decrease_registers() {
  static_assert(Regs >= 24 && Regs <= 256 && Regs % 8 == 0, "setmaxnreg takes 24..256, a multiple of 8");
  asm volatile("setmaxnreg.dec.sync.aligned.u32 %0;" ::"n"(Regs));
}

template <int Regs>
TESSEL_DEVICE void increase_registers() {
  static_assert(Regs >= 24 && Regs <= 256 && Regs % 8 == 0, "setmaxnreg takes 24..256, a multiple of 8");
  asm volatile("setmaxnreg.inc.sync.aligned.u32 %0;" ::"n"(Regs));
}

// A barrier among `threads` threads (a multiple of 32) that leaves the rest of the CTA running.
// Id 0 is __syncthreads(); kernels hand out the others.
TESSEL_DEVICE void sync(int id, int threads = kWarpgroupThreads) {
  asm volatile("bar.sync %0, %1;" ::"r"(id), "r"(threads) : "memory");
}

// True on exactly one thread of the warpgroup: the one that issues single-thread work (TMA).
TESSEL_DEVICE bool is_leader() { return thread_in_warpgroup() == 0; }

}  // namespace tessel::cuda::warpgroup
