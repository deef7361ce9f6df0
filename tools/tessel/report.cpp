// Output of the tessel CLI: aligned text rows with repro lines, and JSON reports.
#include "report.hpp"

#include <cstdio>
#include <ctime>
#include <fstream>
#include <nlohmann/json.hpp>

#include "tessel/cpu/isa.hpp"

namespace tessel::cli {

void print_verify_row(const VerifyRow& r) {
  const auto& v = r.result;
  std::printf("%-11s %-14s %s", std::string(verdict_name(v.verdict)).c_str(), r.impl.c_str(), r.problem.c_str());
  if (v.verdict == Verdict::passed) {
    std::printf("  rel_l2=%.2e (tol %.1e) trials=%d", v.worst_rel_l2, v.tolerance_rel_l2, v.trials);
    if (v.rows_checked < v.rows_total) std::printf(" rows=%lld/%lld", (long long)v.rows_checked, (long long)v.rows_total);
  } else {
    std::printf("  %s", v.reason.c_str());
  }
  if (v.tuned) std::printf("  (tuned: %s)", format_config(v.config).c_str());
  std::printf("\n");
  if (!v.warning.empty()) std::printf("  warning: %s: %s\n", r.impl.c_str(), v.warning.c_str());
  if (v.verdict == Verdict::failed) std::printf("  __REPRO: %s\n", r.repro.c_str());
}

void print_bench_rows(const std::vector<BenchRow>& rows) {
  if (rows.empty()) return;
  std::printf("%s\n", rows.front().problem.c_str());
  std::printf("  %-11s %-14s %12s %7s %5s %9s %9s %14s %9s\n", "status", "impl", "median", "iqr", "n", "TFLOP/s",
              "GB/s", "%roofline", "speedup");
  for (const auto& r : rows) {
    if (r.verdict != Verdict::passed) {
      std::printf("  %-11s %-14s %s\n", std::string(verdict_name(r.verdict)).c_str(), r.impl.c_str(), r.reason.c_str());
      continue;
    }
    char median[32], speed[48], roof[48];
    if (r.median_s < 1e-3) std::snprintf(median, sizeof median, "%.2f us", r.median_s * 1e6);
    else std::snprintf(median, sizeof median, "%.3f ms", r.median_s * 1e3);
    if (r.speedup > 0) std::snprintf(speed, sizeof speed, "%.2fx %s", r.speedup, r.is_baseline ? "(base)" : "");
    else std::snprintf(speed, sizeof speed, "-");
    std::snprintf(roof, sizeof roof, "%.1f%% %s%s", r.pct_roofline, r.bound == "memory" ? "mem" : "cmp", r.suspect ? " SUSPECT" : "");
    std::printf("  %-11s %-14s %12s %6.1f%% %5d %9.3f %9.1f %14s %9s\n", "PASSED", r.impl.c_str(), median,
                100 * r.iqr_s / r.median_s, r.n, r.tflops, r.gbps, roof, speed);
  }
  // Which config ran where it was not the defaults; a tuned one is marked, since nothing on the
  // command line asked for it.
  for (const auto& r : rows) {
    if (!r.warning.empty()) std::printf("  warning: %s: %s\n", r.impl.c_str(), r.warning.c_str());
    if (!r.config.empty() && (r.verdict == Verdict::passed || r.verdict == Verdict::failed))
      std::printf("  config: %s ran %s%s\n", r.impl.c_str(), r.config.c_str(), r.tuned ? " (tuned)" : "");
  }
  for (const auto& r : rows)
    if (r.verdict == Verdict::passed || r.verdict == Verdict::failed) std::printf("  __REPRO: %s\n", r.repro.c_str());
}

std::string source_commit() {
  if (const char* c = std::getenv("TESSEL_COMMIT")) return c;
#ifdef TESSEL_SOURCE_DIR
  auto run = [](const std::string& cmd) {
    std::string out;
    if (FILE* p = popen(cmd.c_str(), "r")) {
      char buf[256];
      while (std::fgets(buf, sizeof buf, p)) out += buf;
      pclose(p);
    }
    while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
    return out;
  };
  const std::string git = "git -C '" TESSEL_SOURCE_DIR "' ";
  std::string head = run(git + "rev-parse HEAD 2>/dev/null");
  if (head.empty()) return "unknown";
  if (!run(git + "status --porcelain --untracked-files=no 2>/dev/null").empty()) head += "-dirty";
  return head;
#else
  return "unknown";
#endif
}

std::string utc_now() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

Status write_json_report(const std::string& path, const std::string& kind, const std::string& command,
                         const MachineProbe* machine, const std::vector<VerifyRow>& verify_rows,
                         const std::vector<BenchRow>& bench_rows) {
  using nlohmann::json;
  json j;
  j["tool"] = "tessel";
  j["kind"] = kind;
  j["command"] = command;
  j["commit"] = source_commit();
  j["date"] = utc_now();
  j["machine"] = machine ? json::parse(probe_to_json(*machine)) : json(nullptr);
  // The SIMD target the CPU kernels ran (TESSEL_CPU_ISA can hold it below the machine's best).
  j["cpu_simd"] = cpu::simd_target();
  json rows = json::array();
  for (const auto& r : verify_rows) {
    rows.push_back({{"problem", r.problem},
                    {"impl", r.impl},
                    {"device", std::string(device_name(r.device))},
                    {"status", std::string(verdict_name(r.result.verdict))},
                    {"reason", r.result.reason},
                    {"failure", std::string(failure_name(r.result.failure))},
                    {"rel_l2", r.result.worst_rel_l2},
                    {"tolerance_rel_l2", r.result.tolerance_rel_l2},
                    {"trials", r.result.trials},
                    {"rows_checked", r.result.rows_checked},
                    {"rows_total", r.result.rows_total},
                    {"config", format_config(r.result.config)},
                    {"tuned", r.result.tuned},
                    {"repro", r.repro}});
  }
  for (const auto& r : bench_rows) {
    rows.push_back({{"problem", r.problem},      {"impl", r.impl},
                    {"device", std::string(device_name(r.device))},
                    {"baseline_impl", r.is_baseline},
                    {"status", std::string(verdict_name(r.verdict))},
                    {"reason", r.reason},        {"median_s", r.median_s},
                    {"iqr_s", r.iqr_s},          {"n", r.n},
                    {"tflops", r.tflops},        {"gbps", r.gbps},
                    {"pct_roofline", r.pct_roofline}, {"bound", r.bound},
                    {"suspect", r.suspect},      {"speedup", r.speedup},
                    {"baseline", r.baseline},    {"config", r.config},
                    {"tuned", r.tuned},          {"repro", r.repro}});
  }
  j["rows"] = rows;
  std::ofstream f(path);
  if (!f) return Status::error(StatusCode::io_error, "report", path, "cannot open for writing");
  f << j.dump(2) << "\n";
  if (!f) return Status::error(StatusCode::io_error, "report", path, "write failed");
  return {};
}

}  // namespace tessel::cli
