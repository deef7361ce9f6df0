// Batch files: one descriptor per line, '#' comments; named suites live in bench/suites/<name>.txt.
#pragma once

#include <string>
#include <vector>

#include "tessel/runtime/registry.hpp"

namespace tessel {

struct SuiteEntry {
  std::string where;  // "file:line", for messages
  Problem problem;
};

// Parses batch-file text. Any malformed line fails the whole file, naming the file and line.
Result<std::vector<SuiteEntry>> parse_suite(const Registry& reg, const std::string& text, const std::string& name);
// Reads a suite by path (contains '/' or ends in ".txt") or by name, searched in $TESSEL_SUITE_DIR,
// then ./bench/suites, then the source tree's bench/suites.
Result<std::vector<SuiteEntry>> load_suite(const Registry& reg, const std::string& name_or_path);

}  // namespace tessel
