// Backend: what the harness needs from a device: memory, copies, a timer and a cache flush.
#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <string>

#include "tessel/core/status.hpp"
#include "tessel/core/tensor.hpp"

namespace tessel {

class Backend {
 public:
  virtual ~Backend() = default;
  virtual Device device() const = 0;
  virtual std::string name() const = 0;
  // Raw device memory. Alignment is at least 256 bytes.
  virtual Result<void*> alloc(size_t bytes) = 0;
  virtual void free(void* p) = 0;
  virtual Status copy_to_device(void* dst, const void* src, size_t bytes) = 0;
  virtual Status copy_to_host(void* dst, const void* src, size_t bytes) = 0;
  virtual Status fill_bytes(void* dst, unsigned char value, size_t bytes) = 0;
  // Fills with a repeating pattern of `pattern_bytes` (1, 2, 4 or 8) bytes.
  virtual Status fill_pattern(void* dst, const void* pattern, size_t pattern_bytes, size_t bytes) = 0;
  virtual Status synchronize() = 0;
  // Evicts the caches that would otherwise hold a previous repetition's data. `live` lists the
  // regions the next run touches; a backend may evict exactly those (the CPU does, see cpu_backend.cpp).
  struct Region {
    const void* data;
    size_t bytes;
  };
  virtual Status flush_cache(std::span<const Region> live) = 0;
  // The stream (CUDA) an implementation runs on; nullptr on the CPU.
  virtual void* stream() { return nullptr; }

  // Times a callable on this device, in seconds, with the device's own clock (events on CUDA).
  class Timer {
   public:
    virtual ~Timer() = default;
    virtual Status start() = 0;
    virtual Status stop() = 0;
    virtual Result<double> seconds() = 0;  // waits for the stop point
  };
  virtual std::unique_ptr<Timer> make_timer() = 0;
};

// The backend for a device, created on first use; nullptr with a reason when not available
// (no CUDA build, no GPU).
Backend* backend_for(Device d, std::string* why_not = nullptr);

}  // namespace tessel
