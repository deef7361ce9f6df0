// Per-thread scratch for the CPU gemm kernels (cpu.simd, its small-M path, cpu.amx, cpu.bf16dot).
#pragma once

#include <cstddef>
#include <memory>
#include <new>

namespace tessel::gemm::detail {

// Buffers survive between calls, so steady-state calls neither allocate nor page-fault; pool
// workers are persistent, so this is a few MiB per thread at most. Each kernel has its own slots,
// so two kernels never resize each other's buffers. 64-byte aligned.
enum class ScratchSlot { simd_pack_a, simd_pack_b, simd_accum, small_m_a, small_m_accum, bf16_pack_a, bf16_pack_b, bf16_accum, count };

class ScratchBuffer {
 public:
  void* get(size_t bytes) {
    if (bytes > capacity_) {
      ptr_.reset(static_cast<std::byte*>(::operator new[](bytes, std::align_val_t{64})));
      capacity_ = bytes;
    }
    return ptr_.get();
  }

 private:
  struct Free {
    void operator()(std::byte* p) const { ::operator delete[](p, std::align_val_t{64}); }
  };
  std::unique_ptr<std::byte, Free> ptr_;
  size_t capacity_ = 0;
};

// `count` elements of T in this thread's buffer for `slot`.
template <class T>
T* scratch(ScratchSlot slot, size_t count) {
  thread_local ScratchBuffer buffers[size_t(ScratchSlot::count)];
  return static_cast<T*>(buffers[size_t(slot)].get(count * sizeof(T)));
}

}  // namespace tessel::gemm::detail
