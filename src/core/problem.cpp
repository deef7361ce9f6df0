// Problem descriptors: tokenizing, applying an op's schema with clear errors, and canonical printing.
#include "tessel/core/problem.hpp"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <set>
#include <stdexcept>

namespace tessel {
namespace {

bool is_token_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '.' || c == '+' || c == '-';
}

// Printable form of arbitrary bytes for error messages, so a malformed descriptor never garbles
// the terminal.
std::string printable(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      static const char* hex = "0123456789abcdef";
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 15];
    }
    if (out.size() > 60) return out + "...";
  }
  return out;
}

bool parse_int(const std::string& s, int64_t& out) {
  if (s.empty() || s.size() > 18) return false;  // 18 digits cannot overflow int64
  size_t i = s[0] == '-' ? 1 : 0;
  if (i == s.size()) return false;
  int64_t v = 0;
  for (; i < s.size(); ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  out = s[0] == '-' ? -v : v;
  return true;
}

bool parse_real(const std::string& s, double& out) {
  if (s.empty()) return false;
  errno = 0;
  char* end = nullptr;
  out = std::strtod(s.c_str(), &end);
  return errno == 0 && end == s.c_str() + s.size() && std::isfinite(out);
}

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : "|") + x;
  return s;
}

}  // namespace

Result<RawDescriptor> tokenize_descriptor(std::string_view text) {
  RawDescriptor raw;
  size_t i = 0;
  auto skip_space = [&] {
    while (i < text.size() && (text[i] == ' ' || text[i] == '\t')) ++i;
  };
  skip_space();
  const size_t op_begin = i;
  while (i < text.size() && is_token_char(text[i])) ++i;
  raw.op = std::string(text.substr(op_begin, i - op_begin));
  if (raw.op.empty())
    return Status::invalid("descriptor", "op", "must start with an op name, got '" + printable(text) + "'");
  while (true) {
    const size_t before = i;
    skip_space();
    if (i == text.size()) break;
    if (i == before)
      return Status::invalid(raw.op, "descriptor",
                             "unexpected character '" + printable(text.substr(i, 1)) + "' after '" +
                                 printable(text.substr(0, i)) + "'");
    const size_t kb = i;
    while (i < text.size() && is_token_char(text[i])) ++i;
    const std::string key(text.substr(kb, i - kb));
    if (key.empty())
      return Status::invalid(raw.op, "descriptor",
                             "expected key=value at '" + printable(text.substr(kb)) + "'");
    if (i == text.size() || text[i] != '=')
      return Status::invalid(raw.op, key, "expected key=value (no '=' after '" + key + "')");
    ++i;
    const size_t vb = i;
    while (i < text.size() && is_token_char(text[i])) ++i;
    const std::string value(text.substr(vb, i - vb));
    if (value.empty()) return Status::invalid(raw.op, key, "empty value");
    raw.params.emplace_back(key, value);
  }
  return raw;
}

Result<Problem> apply_schema(const RawDescriptor& raw, const std::vector<ParamDef>& schema) {
  std::map<std::string, std::string> values;
  std::set<std::string> seen;
  for (const auto& [key, value] : raw.params) {
    const ParamDef* def = nullptr;
    for (const auto& d : schema)
      if (d.name == key) def = &d;
    if (!def) {
      std::vector<std::string> names;
      for (const auto& d : schema) names.push_back(d.name);
      return Status::invalid(raw.op, key, "unknown parameter (known: " + join(names) + ")");
    }
    if (!seen.insert(key).second) return Status::invalid(raw.op, key, "given more than once");
    std::string canonical = value;
    switch (def->kind) {
      case ParamDef::Kind::integer: {
        int64_t v = 0;
        if (!parse_int(value, v))
          return Status::invalid(raw.op, key, "must be an integer, got '" + value + "'");
        if (v < def->min_value || v > def->max_value)
          return Status::invalid(raw.op, key,
                                 "must be in [" + std::to_string(def->min_value) + ", " +
                                     std::to_string(def->max_value) + "], got " + value);
        canonical = std::to_string(v);
        break;
      }
      case ParamDef::Kind::real: {
        double v = 0;
        if (!parse_real(value, v))
          return Status::invalid(raw.op, key, "must be a finite number, got '" + value + "'");
        canonical = value;
        break;
      }
      case ParamDef::Kind::boolean:
        if (value == "true" || value == "1") canonical = "true";
        else if (value == "false" || value == "0") canonical = "false";
        else return Status::invalid(raw.op, key, "must be true or false, got '" + value + "'");
        break;
      case ParamDef::Kind::dtype: {
        auto t = parse_dtype(value);
        if (!t) return Status::invalid(raw.op, key, "unknown dtype '" + value + "' (known: " + dtype_names() + ")");
        canonical = std::string(dtype_name(*t));
        if (!def->choices.empty()) {
          bool allowed = false;
          for (const auto& c : def->choices) allowed |= c == canonical;
          if (!allowed)
            return Status::invalid(raw.op, key, "dtype " + canonical + " not supported (allowed: " + join(def->choices) + ")");
        }
        break;
      }
      case ParamDef::Kind::choice: {
        bool allowed = false;
        for (const auto& c : def->choices) allowed |= c == value;
        if (!allowed) return Status::invalid(raw.op, key, "must be one of " + join(def->choices) + ", got '" + value + "'");
        break;
      }
    }
    values[key] = canonical;
  }
  for (const auto& d : schema) {
    if (values.count(d.name)) continue;
    if (d.default_value.empty()) return Status::invalid(raw.op, d.name, "required parameter missing");
    values[d.name] = d.default_value;
  }
  return Problem(raw.op, std::move(values));
}

std::string format_problem(const Problem& p, const std::vector<ParamDef>& schema) {
  std::string s = p.op();
  // Defaults are left out: shorter repro lines, and parsing fills them back in, so it still round-trips.
  for (const auto& d : schema)
    if (d.default_value.empty() || p.str(d.name) != d.default_value) s += " " + d.name + "=" + p.str(d.name);
  return s;
}

const std::string& Problem::str(const std::string& key) const {
  auto it = values_.find(key);
  // A missing key is a bug in an op spec (the schema guarantees presence), not a user error.
  if (it == values_.end()) throw std::logic_error(op_ + ": no parameter '" + key + "' in problem");
  return it->second;
}

int64_t Problem::i64(const std::string& key) const {
  int64_t v = 0;
  if (!parse_int(str(key), v)) throw std::logic_error(op_ + ": parameter '" + key + "' is not an integer");
  return v;
}

double Problem::real(const std::string& key) const {
  double v = 0;
  if (!parse_real(str(key), v)) throw std::logic_error(op_ + ": parameter '" + key + "' is not a number");
  return v;
}

bool Problem::flag(const std::string& key) const { return str(key) == "true"; }

DType Problem::dtype(const std::string& key) const {
  auto t = parse_dtype(str(key));
  if (!t) throw std::logic_error(op_ + ": parameter '" + key + "' is not a dtype");
  return *t;
}

Problem Problem::with(const std::string& key, const std::string& value) const {
  Problem p = *this;
  p.values_[key] = value;
  return p;
}

}  // namespace tessel
