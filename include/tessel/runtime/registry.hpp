// The one registry of op specs and their implementations; the library, CLI, tests and tuner share it.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "tessel/runtime/op.hpp"

namespace tessel {

class Registry {
 public:
  // The process-wide registry with every built-in op and implementation registered.
  static Registry& global();

  void add_spec(std::unique_ptr<OpSpec> spec);
  // The op must already have a spec. Keeps each op's list ordered: highest priority first,
  // reference implementations last.
  void add_impl(std::unique_ptr<Implementation> impl);

  const OpSpec* spec(const std::string& op) const;
  std::vector<const OpSpec*> specs() const;
  std::vector<const Implementation*> impls(const std::string& op) const;
  const Implementation* impl(const std::string& op, const std::string& name) const;

  // Parses "op key=value ..." with that op's schema. Errors name the op and the parameter.
  Result<Problem> parse(std::string_view descriptor) const;

 private:
  std::vector<std::unique_ptr<OpSpec>> specs_;
  std::vector<std::unique_ptr<Implementation>> impls_;
};

// Registers every built-in op (src/ops/register_builtin.cpp).
void register_builtin_ops(Registry& r);

}  // namespace tessel
