// The op model: an OpSpec says what is computed; an Implementation says how, on one backend.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "tessel/core/problem.hpp"
#include "tessel/core/status.hpp"
#include "tessel/core/tensor.hpp"
#include "tessel/runtime/probe.hpp"

namespace tessel {

// One tensor an op reads or writes. The harness allocates it from this description.
struct TensorDesc {
  enum class Role { input, output };
  std::string name;
  Role role = Role::input;
  DType dtype = DType::f32;
  std::vector<int64_t> shape;
  // Input value range hint: inputs are drawn from the harness's distributions, then scaled by `scale`
  // and shifted by `offset` (e.g. a norm weight around 1.0).
  double scale = 1.0;
  double offset = 0.0;
  bool positive = false;  // draw magnitudes only (scales, variances)
};

// The work model: the arithmetic done and the fewest bytes any implementation must move.
struct Work {
  double flops = 0;
  double min_bytes = 0;
  bool matrix_bound = false;  // judged against the matrix-unit peak (else the vector FMA peak)
  // The matrix unit's rate for this op's operands relative to the probed peak, which is measured in
  // bf16: 2 for fp8 (Hopper's tensor cores run e4m3 at twice the bf16 rate). Not measured yet.
  double matrix_rate = 1;
  // Judged against the int8 dot-product peak where the probe measured one (qgemm: int8 activations
  // against low-bit weight codes), else as matrix_bound says.
  bool int8_bound = false;
};

// How close a candidate must come to the double-precision reference.
// pass iff  rel_l2 <= max_rel_l2  and  for every element
//   |c - r| <= elem_abs + elem_atol * rms(ref) + elem_rtol * |r|.
// elem_abs is in the output's own units, for outputs with a fixed step (quantized codes: one step
// of int8 is 1 whatever the data's RMS).
struct Tolerance {
  double max_rel_l2 = 1e-5;
  double elem_rtol = 1e-4;
  double elem_atol = 1e-4;
  double elem_abs = 0;
};

// Outputs of the reference, in double, for a chosen set of rows. Every output tensor is viewed as
// [rows, cols] where rows is the product of all dimensions but the last.
struct RefOutput {
  int64_t cols = 0;
  std::vector<int64_t> rows;            // the rows computed, in order
  std::vector<double> values;           // rows.size() * cols
};

class OpSpec {
 public:
  virtual ~OpSpec() = default;
  virtual std::string name() const = 0;
  virtual std::string summary() const = 0;
  virtual const std::vector<ParamDef>& params() const = 0;
  // Rules beyond the per-parameter schema (relations between parameters, sizes too large, ...).
  virtual Status validate(const Problem& p) const = 0;
  // Inputs first, then outputs.
  virtual std::vector<TensorDesc> tensors(const Problem& p) const = 0;
  virtual Work work(const Problem& p) const = 0;
  virtual Tolerance tolerance(const Problem& p) const = 0;
  // The tolerance of one output (`output` counts the outputs only, in tensors() order). Every
  // output gets tolerance(p) unless the op overrides this: outputs of different kinds (quantized
  // codes, which may flip one step, and their scales, which may not) need bounds of their own.
  virtual Tolerance output_tolerance(const Problem& p, size_t output) const {
    (void)output;
    return tolerance(p);
  }
  // The sample matrix for verify: shapes that include tails and size-1 dimensions.
  virtual std::vector<std::string> samples() const = 0;
  // Computes the requested rows of every output from host copies of the inputs, accumulating in
  // double. `inputs` are the tensors()'s inputs in order; `outputs` has one entry per output.
  virtual void reference(const Problem& p, std::span<const TensorView> inputs,
                         std::span<const int64_t> rows, std::vector<RefOutput>& outputs) const = 0;

  // Parses and validates a descriptor for this op.
  Result<Problem> parse(std::string_view descriptor) const;
  std::string format(const Problem& p) const { return format_problem(p, params()); }
};

// Answer to "can this implementation run this problem?", with the reason when it cannot.
struct Support {
  bool ok = true;
  std::string reason;
  bool missing_hardware = false;  // no because this machine lacks an instruction set or unit
  static Support yes() { return {}; }
  static Support no(std::string why) { return {false, std::move(why)}; }
  static Support no_hardware(std::string why) { return {false, std::move(why), true}; }
};

// Tunables. A config maps each tunable to one of its values; an empty config means "defaults".
struct Tunable {
  std::string name;
  std::vector<int64_t> values;  // the first is the default
};
using Config = std::map<std::string, int64_t>;

// What a run may use besides its tensors.
struct RunContext {
  void* stream = nullptr;  // cudaStream_t for CUDA implementations
  int threads = 0;         // CPU threads; 0 = all
};

class Implementation {
 public:
  virtual ~Implementation() = default;
  virtual std::string name() const = 0;     // unique within the op, e.g. "cpu.simd", "cublas"
  virtual std::string op() const = 0;
  virtual Device device() const = 0;
  virtual bool is_baseline() const { return false; }
  virtual bool is_reference() const { return false; }
  // True when results may differ bitwise between runs on the same inputs (e.g. atomics).
  virtual bool is_nondeterministic() const { return false; }
  // Higher runs first in the registry's ordered list.
  virtual int priority() const { return 0; }
  virtual Support supports(const Problem& p) const = 0;
  virtual std::vector<Tunable> config_space(const Problem&) const { return {}; }
  // The cost model: the predicted seconds of one run of `p` with `config` (complete or partial; missing
  // tunables take their defaults) on a device with ceilings `roof`, given the op's work model. The
  // tuner measures candidates in this order, so a model only has to order configs well, not to be
  // exact. The default is the roofline bound, the same for every config: an implementation overrides
  // it where a tunable changes the predicted time (cuda.wgmma's tile width and K splits).
  virtual double predict_seconds(const Problem& p, const Config& config, const Work& work,
                                 const Roofline& roof) const;
  // `tensors` follows spec.tensors(p): inputs then outputs.
  virtual Status run(const Problem& p, const Config& config, std::span<const TensorView> tensors,
                     const RunContext& ctx) const = 0;
};

// Value of a tunable in `config`, or its default from the space.
int64_t config_value(const Config& config, const std::vector<Tunable>& space, const std::string& name);
// "key=value,key=value" (integers) as a Config; a malformed entry is an error naming it.
Result<Config> parse_config(const std::string& text);
// "key=value,..." in key order; empty for the empty config.
std::string format_config(const Config& config);
// The compute ceiling a work model is judged against: the int8 dot peak for int8-bound ops where
// measured, the matrix unit's peak times work.matrix_rate for matrix-bound ones, else the vector peak.
double compute_peak(const Work& work, const Roofline& roof);
// The roofline bound of a work model: the larger of its flops at compute_peak and its minimum bytes at
// the copy bandwidth. 0 when the ceilings are unknown.
double roofline_seconds(const Work& work, const Roofline& roof);
// Whether `impl` takes `config` on `p`: every key one of its tunables, every value one it lists.
Status check_config(const Implementation& impl, const Problem& p, const Config& config);

}  // namespace tessel
