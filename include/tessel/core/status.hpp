// Status: how every tessel call reports failure, naming the op, the parameter and the rule it broke.
#pragma once

#include <string>
#include <utility>

namespace tessel {

enum class StatusCode {
  ok,
  invalid_argument,  // the caller broke a rule: a bad shape, dtype, stride, option or descriptor
  unsupported,       // valid, but this implementation or backend does not handle it
  backend_error,     // the device or a library reported an error (CUDA, cuBLAS, ...)
  io_error,          // a file could not be read or written
  internal,          // a bug in tessel
};

std::string_view status_code_name(StatusCode c);

// A value type: ok, or an error with a code, the op, the parameter and a message stating the rule.
class [[nodiscard]] Status {
 public:
  Status() = default;
  static Status error(StatusCode code, std::string op, std::string param, std::string rule) {
    Status s;
    s.code_ = code;
    s.op_ = std::move(op);
    s.param_ = std::move(param);
    s.rule_ = std::move(rule);
    return s;
  }
  static Status invalid(std::string op, std::string param, std::string rule) {
    return error(StatusCode::invalid_argument, std::move(op), std::move(param), std::move(rule));
  }
  static Status unsupported(std::string op, std::string param, std::string rule) {
    return error(StatusCode::unsupported, std::move(op), std::move(param), std::move(rule));
  }

  bool ok() const { return code_ == StatusCode::ok; }
  explicit operator bool() const { return ok(); }
  StatusCode code() const { return code_; }
  const std::string& op() const { return op_; }
  const std::string& param() const { return param_; }
  const std::string& rule() const { return rule_; }
  // One line: "<op>: <param>: <rule>", omitting empty parts.
  std::string message() const;

 private:
  StatusCode code_ = StatusCode::ok;
  std::string op_, param_, rule_;
};

// A value or the Status that explains why there is none.
template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) {}  // NOLINT: implicit by design
  bool ok() const { return status_.ok(); }
  const Status& status() const { return status_; }
  T& value() & { return value_; }
  const T& value() const& { return value_; }
  T&& value() && { return std::move(value_); }
  T* operator->() { return &value_; }
  const T* operator->() const { return &value_; }
  T& operator*() { return value_; }
  const T& operator*() const { return value_; }

 private:
  T value_{};
  Status status_;
};

#define TESSEL_RETURN_IF_ERROR(expr)         \
  do {                                       \
    ::tessel::Status tessel_status_ = (expr); \
    if (!tessel_status_.ok()) return tessel_status_; \
  } while (0)

}  // namespace tessel
