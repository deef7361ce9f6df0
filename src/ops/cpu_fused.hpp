// The shell every "cpu.fused" implementation shares: its identity in the registry, the one tunable
// of the CPU fusion runner (streaming stores), and the checks on host tensors. An op supplies
// supports() and run_chain(), which builds its fusion chain (include/tessel/fuse) and runs it.
#pragma once

#include <span>
#include <string>
#include <vector>

#include "tessel/fuse/fuse.hpp"
#include "tessel/runtime/op.hpp"

namespace tessel::fused {

class CpuFusedImpl : public Implementation {
 public:
  explicit CpuFusedImpl(std::string op) : op_(std::move(op)) {}

  std::string name() const final { return "cpu.fused"; }
  std::string op() const final { return op_; }
  Device device() const final { return Device::cpu; }
  int priority() const final { return 10; }

  std::vector<Tunable> config_space(const Problem&) const final {
    // stream: -1 auto (outputs of 2M elements and more), 0 normal stores, 1 streaming stores.
    return {{"stream", {-1, 0, 1}}};
  }

  Status run(const Problem& p, const Config& config, std::span<const TensorView> t,
             const RunContext& ctx) const final {
    for (const TensorView& v : t)
      if (!v.is_contiguous() || v.device != Device::cpu)
        return Status::unsupported(op_, "tensors", "cpu.fused needs contiguous host tensors");
    fuse::cpu::Options o;
    o.threads = ctx.threads;
    o.stream = int(config_value(config, config_space(p), "stream"));
    return run_chain(p, t, o);
  }

 protected:
  // Checks the tensor list (spec.tensors() order) and runs the op's chain with the runner options.
  virtual Status run_chain(const Problem& p, std::span<const TensorView> t, const fuse::cpu::Options& o) const = 0;

  // The fusion chains read and write f32 and bf16.
  static Support supports_dtype(DType d) {
    if (d != DType::f32 && d != DType::bf16) return Support::no("cpu.fused handles dtype=f32 and dtype=bf16 only");
    return Support::yes();
  }

 private:
  std::string op_;
};

}  // namespace tessel::fused
