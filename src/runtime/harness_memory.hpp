// Harness-owned memory: guarded device buffers, seeded inputs, poison, and output comparison.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tessel/runtime/backend.hpp"
#include "tessel/runtime/harness.hpp"
#include "tessel/runtime/op.hpp"

namespace tessel::harness {

// Bytes of guard before and after every buffer. A multiple of 256 keeps the payload aligned.
inline constexpr size_t kGuardBytes = 256;
inline constexpr unsigned char kGuardByte = 0xA5;

// One tensor the harness allocated on a backend, with canary regions on both sides.
class GuardedTensor {
 public:
  GuardedTensor() = default;
  GuardedTensor(const GuardedTensor&) = delete;
  GuardedTensor& operator=(const GuardedTensor&) = delete;
  GuardedTensor(GuardedTensor&& o) noexcept { *this = std::move(o); }
  GuardedTensor& operator=(GuardedTensor&& o) noexcept;
  ~GuardedTensor();

  static Result<GuardedTensor> allocate(Backend& be, const TensorDesc& desc);
  const TensorView& view() const { return view_; }
  const TensorDesc& desc() const { return desc_; }
  size_t bytes() const { return bytes_; }
  // Non-empty: which guard changed ("before" / "after").
  Result<std::string> check_guards() const;
  Status poison();  // NaN for float dtypes, 0xA5 bytes otherwise
  Status upload(const std::vector<unsigned char>& host);
  Result<std::vector<unsigned char>> download() const;
  // Downloads only the given rows (the tensor viewed as [rows, cols]), concatenated.
  Result<std::vector<unsigned char>> download_rows(const std::vector<int64_t>& rows) const;

 private:
  Backend* be_ = nullptr;
  void* base_ = nullptr;
  size_t bytes_ = 0;
  TensorDesc desc_;
  TensorView view_;
};

int64_t rows_of(const TensorDesc& d);
int64_t cols_of(const TensorDesc& d);
size_t bytes_of(const TensorDesc& d);

// Host bytes for every input of `descs`, drawn from `dist` with `seed` (parallel, counter-based: the
// same seed gives the same values whatever the thread count).
std::vector<std::vector<unsigned char>> make_inputs(const std::vector<TensorDesc>& descs, Distribution dist,
                                                    uint64_t seed, int threads);
std::vector<TensorView> host_views(const std::vector<TensorDesc>& descs,
                                   std::vector<std::vector<unsigned char>>& bufs);

// The poison byte pattern for a dtype, and whether a value holds it exactly.
std::vector<unsigned char> poison_pattern(DType t);

struct Comparison {
  bool ok = true;
  FailureKind failure = FailureKind::none;
  std::string detail;
  double rel_l2 = 0;
};

// Compares candidate output bytes (the rows listed in ref, in the same order) against the reference.
Comparison compare_rows(const TensorDesc& out, const unsigned char* got, const RefOutput& ref,
                        const Tolerance& tol);
// Scans a whole output for the poison pattern: the cheap check that every element was written.
Comparison check_all_written(const TensorDesc& out, const std::vector<unsigned char>& got);

}  // namespace tessel::harness
