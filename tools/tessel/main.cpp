// The tessel command-line driver: list, probe, verify, bench, tune and quantize, all through the one op registry.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "quantize_cmd.hpp"
#include "report.hpp"
#include "tessel/cpu/isa.hpp"
#include "tessel/runtime/backend.hpp"
#include "tessel/runtime/harness.hpp"
#include "tessel/runtime/probe.hpp"
#include "tessel/runtime/registry.hpp"
#include "tessel/runtime/suite.hpp"
#include "tessel/runtime/tuning_db.hpp"
#include "tune_cmd.hpp"

namespace tessel::cli {
namespace {

// Exit codes: 0 all good, 1 something FAILED, 2 bad input (descriptor, option, batch file).
constexpr int kFailed = 1;
constexpr int kBadInput = 2;

int bad_input(const std::string& msg) {
  std::fprintf(stderr, "tessel: %s\n", msg.c_str());
  return kBadInput;
}

// Problems named on the command line: descriptors, --suite files, or (with neither) every sample.
struct Selection {
  std::vector<std::string> descriptors;
  std::string suite;
  std::vector<std::string> impls;  // exact names or "prefix*"
  std::string device;              // "", "cpu" or "cuda"
  std::string json;
  int threads = 0;
  std::string config;  // --config key=value,...
  std::string db;      // --db: the tuning database to read; empty: default_tuning_db_path()
  bool untuned = false;  // --untuned: ignore the tuning database
};

// The tuning database verify and bench read (tuned configs run when no --config is given): empty when
// --untuned or when there is nowhere to keep one; an unreadable or malformed file is an error naming it.
Result<TuningDb> selected_tuning(const Selection& sel) {
  if (sel.untuned) return TuningDb{};
  const std::string path = sel.db.empty() ? default_tuning_db_path() : sel.db;
  return path.empty() ? Result<TuningDb>(TuningDb{}) : TuningDb::load(path);
}


bool impl_selected(const Selection& sel, const Implementation& impl, bool default_excludes_reference) {
  if (!sel.device.empty() && sel.device != device_name(impl.device())) return false;
  if (sel.impls.empty()) return !(default_excludes_reference && impl.is_reference());
  for (const auto& pat : sel.impls) {
    if (pat.ends_with('*') ? impl.name().starts_with(pat.substr(0, pat.size() - 1)) : impl.name() == pat) return true;
  }
  return false;
}

// Parses --config and checks it against the selected implementations that support each problem
// (baselines excepted when `skip_baselines`: bench runs them with their defaults). A value outside
// a tunable's list is an error, and so is a key that none of them has on any problem; an
// implementation without the key gets an unsupported row from verify and bench (so `--impl
// cuda.fused --config slots=4` runs every op that has slots, and says which ops do not).
Result<Config> selected_config(const Registry& reg, const Selection& sel, const std::vector<Problem>& problems,
                               bool skip_baselines) {
  auto c = parse_config(sel.config);
  if (!c.ok() || c->empty()) return c;
  std::map<std::string, bool> taken;  // key -> some selected implementation has it
  Status first_missing;
  for (const Problem& p : problems) {
    for (const Implementation* impl : reg.impls(p.op())) {
      if (!impl_selected(sel, *impl, skip_baselines) || (skip_baselines && impl->is_baseline())) continue;
      if (!impl->supports(p).ok) continue;
      const std::vector<Tunable> space = impl->config_space(p);
      Config own;  // the keys this implementation has
      for (const auto& [key, value] : *c) {
        const bool has = std::any_of(space.begin(), space.end(), [&](const Tunable& t) { return t.name == key; });
        taken[key] = taken[key] || has;
        if (has) own[key] = value;
      }
      TESSEL_RETURN_IF_ERROR(check_config(*impl, p, own));
      if (own.size() < c->size() && first_missing.ok()) first_missing = check_config(*impl, p, *c);
    }
  }
  for (const auto& [key, any] : taken)
    if (!any) return first_missing;
  return c;
}

Result<std::vector<Problem>> select_problems(const Registry& reg, const Selection& sel, bool samples_by_default) {
  std::vector<Problem> out;
  for (const auto& d : sel.descriptors) {
    // A lone key=value here is most often a tunable that followed --config after a space (--config
    // takes one value): say so instead of reporting a descriptor whose op name is the key.
    if (d.find('=') != std::string::npos && d.find_first_of(" \t") == std::string::npos)
      return Status::invalid(d, "descriptor",
                             "a key=value pair, not a problem descriptor (those start with an op name, e.g. \"rmsnorm "
                             "rows=8 cols=8\"); if it is a tunable, --config takes them in one value, comma-separated: "
                             "--config a=1,b=2");
    auto p = reg.parse(d);
    if (!p.ok()) return p.status();
    out.push_back(*p);
  }
  if (!sel.suite.empty()) {
    auto s = load_suite(reg, sel.suite);
    if (!s.ok()) return s.status();
    for (auto& e : *s) out.push_back(e.problem);
  }
  if (out.empty() && samples_by_default) {
    for (const OpSpec* spec : reg.specs())
      for (const auto& d : spec->samples()) {
        auto p = reg.parse(d);
        if (!p.ok()) return Status::error(StatusCode::internal, spec->name(), "samples", p.status().message());
        out.push_back(*p);
      }
  }
  if (out.empty()) return Status::invalid("tessel", "problem", "give a descriptor or --suite");
  return out;
}

std::string quote_join(int argc, char** argv) {
  std::string s;
  for (int i = 0; i < argc; ++i) {
    std::string a = argv[i];
    if (i == 0) a = "tessel";
    if (a.find(' ') != std::string::npos) a = "\"" + a + "\"";
    s += (i ? " " : "") + a;
  }
  return s;
}

int cmd_list(const Registry& reg) {
  std::printf("ops and implementations (best first; the reference is last):\n");
  for (const OpSpec* spec : reg.specs()) {
    std::printf("  %-10s %s\n", spec->name().c_str(), spec->summary().c_str());
    std::string params;
    for (const auto& d : spec->params())
      params += " " + d.name + (d.default_value.empty() ? "" : "=" + d.default_value);
    std::printf("    params:%s\n", params.c_str());
    for (const Implementation* impl : reg.impls(spec->name())) {
      std::string tags = impl->is_baseline() ? " baseline" : impl->is_reference() ? " reference" : "";
      std::printf("    %-16s %-5s priority %5d%s\n", impl->name().c_str(), std::string(device_name(impl->device())).c_str(),
                  impl->priority(), tags.c_str());
    }
  }
  std::printf("backends:\n");
  for (Device d : {Device::cpu, Device::cuda}) {
    std::string why;
    Backend* be = backend_for(d, &why);
    std::printf("  %-5s %s\n", std::string(device_name(d)).c_str(), be ? "available" : ("unavailable: " + why).c_str());
  }
  return 0;
}

int cmd_probe(bool refresh, bool quick, bool json) {
  auto m = load_or_run_probe(refresh, quick);
  if (!m.ok()) {
    std::fprintf(stderr, "tessel: %s\n", m.status().message().c_str());
    return kFailed;
  }
  if (json) {
    std::printf("%s\n", probe_to_json(*m).c_str());
    return 0;
  }
  const auto& c = m->cpu;
  std::printf("host        %s (measured %s)\n", m->host.c_str(), m->measured_at.c_str());
  std::printf("cpu         %s, %d threads\n", c.model.c_str(), c.cores);
  std::string isa, caches;
  for (const auto& s : c.isa) isa += s + " ";
  for (const auto& s : c.caches) caches += s + ", ";
  std::printf("isa         %s\n", isa.c_str());
  std::printf("caches      %s\n", caches.c_str());
  std::printf("memory      %.1f GB/s (measured copy, read+write)\n", c.mem_gbps);
  std::printf("read        %.1f GB/s (measured read-only stream)\n", c.read_gbps);
  std::printf("f32 fma     %.1f GFLOP/s (measured, all threads)\n", c.fma_gflops);
  if (c.bf16_dot_gflops > 0)
    std::printf("bf16 dot    %.1f GFLOP/s (measured, all threads, AVX512-BF16)\n", c.bf16_dot_gflops);
  if (c.int8_dot_gops > 0) std::printf("int8 dot    %.1f GOP/s (measured, all threads, AVX512-VNNI)\n", c.int8_dot_gops);
  if (m->has_gpu) {
    std::printf("gpu         %s, %d SMs, L2 %.0f MiB\n", m->gpu.name.c_str(), m->gpu.sms, double(m->gpu.l2_bytes) / (1 << 20));
    std::printf("gpu copy    %.1f GB/s (measured, read+write)\n", m->gpu.copy_gbps);
    std::printf("gpu bf16    %.1f TFLOP/s (measured cuBLAS GEMM)\n", m->gpu.bf16_tflops);
  } else {
    std::printf("gpu         none\n");
  }
  return 0;
}

int cmd_verify(const Registry& reg, const Selection& sel, const std::string& command) {
  auto problems = select_problems(reg, sel, true);
  if (!problems.ok()) return bad_input(problems.status().message());
  auto config = selected_config(reg, sel, *problems, false);
  if (!config.ok()) return bad_input(config.status().message());
  auto tuning = selected_tuning(sel);
  if (!tuning.ok()) return bad_input(tuning.status().message());
  std::vector<VerifyRow> rows;
  int failed = 0, passed = 0, i = 0;
  for (const Problem& p : *problems) {
    ++i;
    const OpSpec* spec = reg.spec(p.op());
    for (const Implementation* impl : reg.impls(p.op())) {
      if (!impl_selected(sel, *impl, false)) continue;
      VerifyOptions opt;
      opt.threads = sel.threads;
      opt.config = *config;
      opt.tuning = &*tuning;
      VerifyRow row{spec->format(p), impl->name(), impl->device(), verify(*spec, *impl, p, opt), ""};
      row.repro = (impl->device() == Device::cpu ? cpu::isa_env_prefix() : "") + "tessel verify \"" + spec->format(p) +
                  "\" --impl " + impl->name();
      if (!row.result.config.empty()) row.repro += " --config " + format_config(row.result.config);
      print_verify_row(row);
      std::fflush(stdout);
      failed += row.result.verdict == Verdict::failed;
      passed += row.result.verdict == Verdict::passed;
      rows.push_back(std::move(row));
    }
    if (problems->size() > 20 && i % 20 == 0) std::fprintf(stderr, "[%d/%zu problems]\n", i, problems->size());
  }
  std::printf("verify: %d passed, %d failed, %zu rows\n", passed, failed, rows.size());
  if (!sel.json.empty()) {
    auto m = load_or_run_probe(false, true);
    if (auto s = write_json_report(sel.json, "verify", command, m.ok() ? &*m : nullptr, rows, {}); !s.ok())
      return bad_input(s.message());
  }
  if (rows.empty()) return bad_input("no implementation matched --impl/--device");
  return failed ? kFailed : 0;
}

// refresh_probe: measure the ceilings again before timing. A cached probe may come from a busier or
// slower moment of the machine (a shared VM's copy bandwidth has read 24 and 40 GB/s on different
// occasions), and every % of roofline is only as good as that probe.
int cmd_bench(const Registry& reg, const Selection& sel, BenchOptions opt, bool refresh_probe,
              const std::string& command) {
  auto problems = select_problems(reg, sel, false);
  if (!problems.ok()) return bad_input(problems.status().message());
  auto config = selected_config(reg, sel, *problems, true);
  if (!config.ok()) return bad_input(config.status().message());
  auto tuning = selected_tuning(sel);
  if (!tuning.ok()) return bad_input(tuning.status().message());
  auto machine = load_or_run_probe(refresh_probe, false);
  if (!machine.ok())
    std::fprintf(stderr, "tessel: probe failed (%s); %% of roofline will read 0\n", machine.status().message().c_str());
  else {
    // The ceilings themselves, so a reader can tell a slow-state probe from a fast one (the CPU's
    // read-only stream too: the ceiling of read-bound rows, which % of roofline takes as the copy).
    char gpu[96] = "";
    if (machine->has_gpu)
      std::snprintf(gpu, sizeof gpu, ", GPU copy %.0f GB/s, bf16 %.0f TFLOP/s", machine->gpu.copy_gbps,
                    machine->gpu.bf16_tflops);
    // Each dot peak only where the probe measured it (a CPU may have AVX512-VNNI without AVX512-BF16).
    char bf16_dot[40] = "", int8_dot[40] = "";
    if (machine->cpu.bf16_dot_gflops > 0)
      std::snprintf(bf16_dot, sizeof bf16_dot, ", bf16 dot %.0f GFLOP/s", machine->cpu.bf16_dot_gflops);
    if (machine->cpu.int8_dot_gops > 0)
      std::snprintf(int8_dot, sizeof int8_dot, ", int8 dot %.0f GOP/s", machine->cpu.int8_dot_gops);
    std::fprintf(stderr, "roofline: CPU copy %.1f GB/s (read-only %.1f), f32 FMA %.0f GFLOP/s%s%s%s; probed %s%s\n",
                 machine->cpu.mem_gbps, machine->cpu.read_gbps, machine->cpu.fma_gflops, bf16_dot, int8_dot, gpu,
                 machine->measured_at.c_str(),
                 refresh_probe ? " (measured now)" : " (cached; --refresh-probe measures again)");
    std::fprintf(stderr, "CPU kernels: %s SIMD code%s\n", cpu::simd_target().c_str(),
                 cpu::isa_env_prefix().empty() ? "" : " (TESSEL_CPU_ISA)");
  }
  opt.threads = sel.threads;
  opt.progress = [](const std::string& s) { std::fprintf(stderr, "%s\n", s.c_str()); };
  std::vector<BenchRow> all;
  int failed = 0, i = 0;
  for (const Problem& p : *problems) {
    ++i;
    std::fprintf(stderr, "[%d/%zu] %s\n", i, problems->size(), reg.spec(p.op())->format(p).c_str());
    std::vector<const Implementation*> impls;
    for (const Implementation* impl : reg.impls(p.op()))
      if (impl_selected(sel, *impl, true)) impls.push_back(impl);
    if (impls.empty()) return bad_input("no implementation of " + p.op() + " matched --impl/--device");
    opt.config = *config;
    opt.tuning = &*tuning;
    auto rows = bench(*reg.spec(p.op()), impls, p, machine.ok() ? &*machine : nullptr, opt);
    print_bench_rows(rows);
    std::fflush(stdout);
    for (const auto& r : rows) failed += r.verdict == Verdict::failed;
    all.insert(all.end(), rows.begin(), rows.end());
  }
  if (!sel.json.empty()) {
    if (auto s = write_json_report(sel.json, "bench", command, machine.ok() ? &*machine : nullptr, {}, all); !s.ok())
      return bad_input(s.message());
    std::printf("wrote %s\n", sel.json.c_str());
  }
  return failed ? kFailed : 0;
}

void add_selection(CLI::App* app, Selection& sel) {
  app->add_option("descriptors", sel.descriptors, "problem descriptors, e.g. \"gemm m=512 n=512 k=512 dtype=bf16\"");
  app->add_option("--suite", sel.suite, "batch file: a name in bench/suites (quick) or a path");
  // One value per --impl (comma-separated inside it), so that descriptors after it stay descriptors.
  app->add_option("--impl", sel.impls, "implementations to run: names or prefix* patterns, comma-separated")
      ->delimiter(',')
      ->allow_extra_args(false);
  app->add_option("--config", sel.config,
                  "tunables for the selected implementations, e.g. splits=2,tile_n=128; a wrong key or value is an error that lists the implementation's tunables");
  app->add_option("--device", sel.device, "only implementations on this device")->check(CLI::IsMember({"cpu", "cuda"}));
  app->add_option("--json", sel.json, "also write a JSON report (machine, commit, date, rows) to this file");
  app->add_option("--threads", sel.threads, "CPU threads (0: all)")->check(CLI::NonNegativeNumber);
  app->add_option("--db", sel.db,
                  "tuning database: with no --config, configs `tessel tune` recorded for this device and problem run "
                  "(default: $TESSEL_TUNE_DB, else tune.json in the probe's cache directory)");
  app->add_flag("--untuned", sel.untuned, "ignore the tuning database: implementations run their defaults");
}

int cmd_tune(const Registry& reg, const TuneCmdOptions& opt, const std::string& command) {
  Selection sel;
  sel.descriptors = opt.descriptors;
  sel.suite = opt.suite;
  sel.impls = opt.impls;
  auto problems = select_problems(reg, sel, false);
  if (!problems.ok()) return bad_input(problems.status().message());
  std::vector<TuneJob> jobs;
  for (const Problem& p : *problems) {
    TuneJob job{p, {}};
    for (const Implementation* impl : reg.impls(p.op()))
      if (impl_selected(sel, *impl, true)) job.impls.push_back(impl);
    if (job.impls.empty()) return bad_input("no implementation of " + p.op() + " matched --impl");
    jobs.push_back(std::move(job));
  }
  return run_tune_command(reg, opt, jobs, command);
}

}  // namespace
}  // namespace tessel::cli

int main(int argc, char** argv) {
  using namespace tessel;
  using namespace tessel::cli;
  CLI::App app{"tessel: write, fuse, verify, benchmark and tune AI kernels.\n"
               "Problems are descriptors: \"<op> key=value ...\"; see docs/descriptors.md."};
  app.require_subcommand(1);
  app.set_help_all_flag("--help-all", "help for every command");

  auto* list = app.add_subcommand("list", "ops, implementations and backends");
  bool refresh = false, quick = false, json = false;
  auto* probe = app.add_subcommand("probe", "machine ceilings: ISA, caches, measured bandwidth and peak rates (cached)");
  probe->add_flag("--refresh", refresh, "measure again instead of reading the cache");
  probe->add_flag("--quick", quick, "shorter, noisier measurements");
  probe->add_flag("--json", json, "print JSON");

  Selection vsel, bsel;
  auto* ver = app.add_subcommand("verify", "check implementations against the reference (no descriptor: every op's sample matrix)");
  add_selection(ver, vsel);

  BenchOptions bopt;
  auto* ben = app.add_subcommand("bench", "time implementations side by side, checked, as % of the probed roofline");
  add_selection(ben, bsel);
  ben->add_option("--baseline", bopt.baseline, "implementation to compare against (default: the best baseline on each device)");
  ben->add_option("--max-seconds", bopt.max_seconds, "wall-time budget per implementation and problem")->check(CLI::PositiveNumber);
  ben->add_option("--min-reps", bopt.min_reps, "fewest timed repetitions")->check(CLI::PositiveNumber);
  ben->add_option("--max-reps", bopt.max_reps, "most timed repetitions")->check(CLI::PositiveNumber);
  bool refresh_probe = false;
  ben->add_flag("--refresh-probe", refresh_probe, "measure the machine's ceilings again before timing (else the cached probe)");

  TuneCmdOptions topt;
  CLI::App* tun = add_tune_command(app, topt);

  QuantizeOptions qopt;
  CLI::App* quant = add_quantize_command(app, qopt);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "tessel: %s (see tessel --help)\n", e.what());
    return 2;
  }
  const std::string command = quote_join(argc, argv);
  if (Status s = cpu::apply_isa_from_env(); !s.ok()) {
    std::fprintf(stderr, "tessel: %s\n", s.message().c_str());
    return 2;
  }
  try {
    Registry& reg = Registry::global();
    if (*list) return cmd_list(reg);
    if (*probe) return cmd_probe(refresh, quick, json);
    if (*ver) return cmd_verify(reg, vsel, command);
    if (*ben) return cmd_bench(reg, bsel, bopt, refresh_probe, command);
    if (*tun) return cmd_tune(reg, topt, command);
    if (*quant) return run_quantize_command(qopt);
  } catch (const std::exception& e) {
    // Only a bug gets here; say so rather than abort.
    std::fprintf(stderr, "tessel: internal error: %s\n", e.what());
    return 3;
  }
  return 2;
}
