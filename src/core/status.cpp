// Status: names of codes and the one-line error message format.
#include "tessel/core/status.hpp"

namespace tessel {

std::string_view status_code_name(StatusCode c) {
  switch (c) {
    case StatusCode::ok: return "ok";
    case StatusCode::invalid_argument: return "invalid argument";
    case StatusCode::unsupported: return "unsupported";
    case StatusCode::backend_error: return "backend error";
    case StatusCode::io_error: return "i/o error";
    case StatusCode::internal: return "internal error";
  }
  return "unknown";
}

std::string Status::message() const {
  if (ok()) return "ok";
  std::string m;
  for (const std::string* part : {&op_, &param_, &rule_}) {
    if (part->empty()) continue;
    if (!m.empty()) m += ": ";
    m += *part;
  }
  return m.empty() ? std::string(status_code_name(code_)) : m;
}

}  // namespace tessel
