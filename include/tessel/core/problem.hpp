// Problem descriptors: "gemm m=4096 n=4096 k=4096 dtype=bf16" <-> a typed, validated Problem.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "tessel/core/dtype.hpp"
#include "tessel/core/status.hpp"

namespace tessel {

// The schema of one descriptor parameter. Each op spec lists its parameters; parsing and printing
// follow that list, so a descriptor round-trips to the same canonical string.
struct ParamDef {
  enum class Kind { integer, dtype, choice, boolean, real };
  std::string name;
  Kind kind = Kind::integer;
  std::string default_value;          // empty: the parameter is required
  std::vector<std::string> choices;   // kind == choice: the allowed values; kind == dtype: allowed dtypes (empty = any)
  int64_t min_value = 1;              // kind == integer: inclusive bounds
  int64_t max_value = int64_t{1} << 40;
  std::string help;
};

// A parsed problem: the op name and one canonical string value per schema parameter.
class Problem {
 public:
  Problem() = default;
  Problem(std::string op, std::map<std::string, std::string> values)
      : op_(std::move(op)), values_(std::move(values)) {}

  const std::string& op() const { return op_; }
  bool has(const std::string& key) const { return values_.count(key) != 0; }
  // Typed accessors. The spec's schema guarantees presence and format after parsing.
  int64_t i64(const std::string& key) const;
  double real(const std::string& key) const;
  bool flag(const std::string& key) const;
  DType dtype(const std::string& key) const;
  const std::string& str(const std::string& key) const;
  // Returns a copy with one value replaced (no validation; parse the string form to validate).
  Problem with(const std::string& key, const std::string& value) const;
  const std::map<std::string, std::string>& values() const { return values_; }

 private:
  std::string op_;
  std::map<std::string, std::string> values_;
};

// The op name and the raw key=value tokens of a descriptor, before any schema is applied.
struct RawDescriptor {
  std::string op;
  std::vector<std::pair<std::string, std::string>> params;
};

// Splits a descriptor into op name and key=value tokens. Rejects empty input, tokens without '=',
// empty keys or values, and characters outside [A-Za-z0-9_.+-] in keys and values.
Result<RawDescriptor> tokenize_descriptor(std::string_view text);

// Applies a schema: rejects unknown and duplicate keys, checks each value's kind and bounds, fills
// defaults, and reports missing required parameters.
Result<Problem> apply_schema(const RawDescriptor& raw, const std::vector<ParamDef>& schema);

// The canonical form: op name, then every parameter that differs from its default, in schema order.
std::string format_problem(const Problem& p, const std::vector<ParamDef>& schema);

}  // namespace tessel
