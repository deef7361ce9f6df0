// Runs the tessel CLI built with the tests (TESSEL_CLI_PATH) and captures its exit code and output, for
// the end-to-end CLI tests. `cache` names a directory under the temporary directory to use as
// TESSEL_CACHE_DIR, so that neither the probe cache nor the tuning database of the developer's machine
// is touched; empty: the environment's. `env`: more VAR=value assignments for the CLI's environment.
#pragma once

#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <string>

namespace tessel::test {

struct CliRun {
  int code = -1;  // the exit status; -1 when the CLI could not be started or did not exit normally
  std::string out;  // stdout and stderr together
};

inline CliRun run_cli(const std::string& args, const std::string& cache = "", const std::string& env = "") {
  std::string cmd = std::string(TESSEL_CLI_PATH) + " " + args + " 2>&1";
  if (!env.empty()) cmd = env + " " + cmd;
  if (!cache.empty()) cmd = "TESSEL_CACHE_DIR=" + (std::filesystem::temp_directory_path() / cache).string() + " " + cmd;
  CliRun r;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return r;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  const int status = pclose(p);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

}  // namespace tessel::test
