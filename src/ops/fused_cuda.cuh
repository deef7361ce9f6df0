// Shared by the cuda.fused implementations (src/ops/<op>/cuda.cu): their shell in the registry, the
// checks every one makes on the tensors it is given, and a CUDA launch error turned into a Status
// naming the op.
#pragma once

#include <cuda_runtime.h>

#include <span>
#include <string>

#include "tessel/fuse/cuda.hpp"
#include "tessel/fuse/fuse.hpp"
#include "tessel/runtime/op.hpp"

namespace tessel::fused_cuda {

// `want` tensors, all in CUDA device memory and contiguous: the chains index rows by their
// length. A wrong count or a host pointer is the caller's error; a strided view is a limit of ours.
inline Status check_tensors(const char* op, std::span<const TensorView> t, size_t want, const char* names) {
  if (t.size() != want) return Status::invalid(op, "tensors", std::string("cuda.fused expects ") + names);
  for (const TensorView& v : t) {
    if (v.device != Device::cuda) return Status::invalid(op, "tensors", "cuda.fused needs CUDA device memory");
    if (!v.is_contiguous()) return Status::unsupported(op, "tensors", "cuda.fused needs contiguous tensors");
  }
  return {};
}

inline Status launched(const char* op, cudaError_t e) {
  if (e == cudaSuccess) return {};
  return Status::error(StatusCode::backend_error, op, "cuda.fused", std::string("kernel launch: ") + cudaGetErrorString(e));
}

// Grids count blocks in 32 bits: a few billion rows is the limit, said up front by supports().
inline Support fits(int64_t rows, int64_t cols) {
  if (rows > (int64_t{1} << 31) - 1 || cols > (int64_t{1} << 40))
    return Support::no("cuda.fused: rows must stay below 2^31 and cols below 2^40");
  return Support::yes();
}

// The shell of every "cuda.fused" implementation: its identity in the registry, then supports(),
// the tensor checks and the launch, in that order. An op supplies supports(), its tensor list and
// launch(), which builds the op's chain (src/ops/<op>/chain.hpp) and runs it with fuse::cuda.
class CudaFusedImpl : public Implementation {
 public:
  explicit CudaFusedImpl(std::string op) : op_(std::move(op)) {}

  std::string name() const final { return "cuda.fused"; }
  std::string op() const final { return op_; }
  Device device() const final { return Device::cuda; }
  int priority() const final { return 20; }

  // slots: 16-byte vectors per thread (fuse::cuda::Launch::vec_slots); 0 is the op's default.
  // (Launches that run as floats, such as odd row lengths, ignore it.)
  std::vector<Tunable> config_space(const Problem&) const final { return {{"slots", {0, 2, 4}}}; }

  Status run(const Problem& p, const Config& config, std::span<const TensorView> t, const RunContext& ctx) const final {
    if (Support sup = supports(p); !sup.ok) return Status::unsupported(op_, name(), sup.reason);
    const Expected want = expected_tensors(p);
    if (Status st = check_tensors(op_.c_str(), t, want.count, want.names); !st.ok()) return st;
    int slots = int(config_value(config, config_space(p), "slots"));
    if (slots == 0) slots = default_slots(p);
    return launch(p, t, fuse::cuda::Launch(static_cast<cudaStream_t>(ctx.stream), slots));
  }

 protected:
  struct Expected {
    size_t count;
    const char* names;  // for the error message, e.g. "x, weight and y"
  };
  virtual Expected expected_tensors(const Problem& p) const = 0;
  // Builds the op's chain and runs it with fuse::cuda on `stream` (a Launch: the stream and the
  // vector slots); launch errors come back through launched().
  virtual Status launch(const Problem& p, std::span<const TensorView> t, const fuse::cuda::Launch& stream) const = 0;
  // The op's vector slots when the config does not say (0: the runner's default), chosen by
  // measurement (docs/fusion.md).
  virtual int default_slots(const Problem&) const { return 0; }

  // The chains read and write f32 and bf16; the grid bounds the rows.
  static Support supports_rows(DType d, int64_t rows, int64_t cols) {
    if (d != DType::f32 && d != DType::bf16) return Support::no("cuda.fused: dtype=f32 or bf16 only");
    return fits(rows, cols);
  }
  Status launched(cudaError_t e) const { return fused_cuda::launched(op_.c_str(), e); }

 private:
  std::string op_;
};

}  // namespace tessel::fused_cuda
