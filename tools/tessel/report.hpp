// Output of the tessel CLI: aligned text tables on stdout and JSON reports with machine and commit.
#pragma once

#include <string>
#include <vector>

#include "tessel/runtime/harness.hpp"
#include "tessel/runtime/probe.hpp"

namespace tessel::cli {

struct VerifyRow {
  std::string problem, impl;
  Device device = Device::cpu;
  VerifyResult result;
  std::string repro;
};

void print_verify_row(const VerifyRow& r);
void print_bench_rows(const std::vector<BenchRow>& rows);

// The commit of the source tree tessel was built from (with "-dirty" when it had local changes);
// $TESSEL_COMMIT overrides it.
std::string source_commit();
std::string utc_now();

// Writes {tool, kind, command, commit, date, machine, rows} to `path`.
Status write_json_report(const std::string& path, const std::string& kind, const std::string& command,
                         const MachineProbe* machine, const std::vector<VerifyRow>& verify_rows,
                         const std::vector<BenchRow>& bench_rows);

}  // namespace tessel::cli
