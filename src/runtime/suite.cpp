// Batch files of problem descriptors: reading, locating named suites, and line-numbered errors.
#include "tessel/runtime/suite.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace tessel {

Result<std::vector<SuiteEntry>> parse_suite(const Registry& reg, const std::string& text, const std::string& name) {
  std::vector<SuiteEntry> out;
  std::istringstream in(text);
  std::string line;
  int lineno = 0;
  while (std::getline(in, line)) {
    ++lineno;
    if (auto hash = line.find('#'); hash != std::string::npos) line.erase(hash);
    while (!line.empty() && (line.back() == ' ' || line.back() == '\t' || line.back() == '\r')) line.pop_back();
    size_t first = line.find_first_not_of(" \t");
    if (first == std::string::npos) continue;
    const std::string where = name + ":" + std::to_string(lineno);
    auto p = reg.parse(line.substr(first));
    if (!p.ok()) return Status::invalid(where, p.status().op(), p.status().param() + ": " + p.status().rule());
    out.push_back({where, std::move(*p)});
  }
  if (out.empty()) return Status::invalid(name, "suite", "contains no descriptors");
  return out;
}

Result<std::vector<SuiteEntry>> load_suite(const Registry& reg, const std::string& name_or_path) {
  namespace fs = std::filesystem;
  std::vector<fs::path> candidates;
  if (name_or_path.find('/') != std::string::npos || name_or_path.ends_with(".txt")) {
    candidates.push_back(name_or_path);
  } else {
    if (const char* d = std::getenv("TESSEL_SUITE_DIR")) candidates.push_back(fs::path(d) / (name_or_path + ".txt"));
    candidates.push_back(fs::path("bench/suites") / (name_or_path + ".txt"));
#ifdef TESSEL_SOURCE_DIR
    candidates.push_back(fs::path(TESSEL_SOURCE_DIR) / "bench/suites" / (name_or_path + ".txt"));
#endif
  }
  for (const auto& path : candidates) {
    std::error_code ec;
    if (!fs::is_regular_file(path, ec)) continue;
    std::ifstream f(path);
    if (!f) return Status::error(StatusCode::io_error, path.string(), "suite", "cannot be read");
    std::stringstream ss;
    ss << f.rdbuf();
    if (f.bad()) return Status::error(StatusCode::io_error, path.string(), "suite", "read failed");
    return parse_suite(reg, ss.str(), path.string());
  }
  return Status::error(StatusCode::io_error, name_or_path, "suite",
                       "not found (looked in $TESSEL_SUITE_DIR, ./bench/suites and the source tree's bench/suites)");
}

}  // namespace tessel
