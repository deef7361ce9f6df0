// Tests for the machine probe: JSON round trip and rejection, the per-machine cache, and sane measurements.
#include "tessel/runtime/probe.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>

#include "tessel/runtime/op.hpp"

namespace tessel {
namespace {

namespace fs = std::filesystem;

MachineProbe sample_probe() {
  MachineProbe m;
  m.host = "box-0123abcd";
  m.cpu.model = "Example CPU @ 3.00GHz";
  m.cpu.isa = {"sse4_2", "avx", "avx2", "fma", "avx512f", "amx_bf16"};
  m.cpu.cores = 96;
  m.cpu.caches = {"L1d 48 KiB", "L1i 32 KiB", "L2 2 MiB", "L3 105 MiB"};
  m.cpu.llc_bytes = size_t{105} << 20;
  m.cpu.mem_gbps = 231.123456789012345;  // many digits: the round trip must keep all of them
  m.cpu.read_gbps = 187.25;
  m.cpu.fma_gflops = 6543.21;
  m.cpu.bf16_dot_gflops = 13086.5;
  m.cpu.int8_dot_gops = 26173.25;
  m.has_gpu = true;
  m.gpu.name = "NVIDIA H200";
  m.gpu.sms = 132;
  m.gpu.l2_bytes = size_t{50} << 20;
  m.gpu.copy_gbps = 4123.5;
  m.gpu.bf16_tflops = 756.25;
  m.measured_at = "2025-01-02T03:04:05Z";
  return m;
}

std::string read_all(const fs::path& p) {
  std::ifstream in(p);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void write_all(const fs::path& p, const std::string& text) {
  std::ofstream out(p, std::ios::trunc);
  out << text;
}

TEST(ProbeJson, RoundTripKeepsEveryField) {
  const MachineProbe m = sample_probe();
  const Result<MachineProbe> back = probe_from_json(probe_to_json(m));
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(back->host, m.host);
  EXPECT_EQ(back->measured_at, m.measured_at);
  EXPECT_EQ(back->cpu.model, m.cpu.model);
  EXPECT_EQ(back->cpu.isa, m.cpu.isa);
  EXPECT_EQ(back->cpu.cores, m.cpu.cores);
  EXPECT_EQ(back->cpu.caches, m.cpu.caches);
  EXPECT_EQ(back->cpu.llc_bytes, m.cpu.llc_bytes);
  EXPECT_EQ(back->cpu.mem_gbps, m.cpu.mem_gbps);
  EXPECT_EQ(back->cpu.read_gbps, m.cpu.read_gbps);
  EXPECT_EQ(back->cpu.fma_gflops, m.cpu.fma_gflops);
  EXPECT_EQ(back->cpu.bf16_dot_gflops, m.cpu.bf16_dot_gflops);
  EXPECT_EQ(back->cpu.int8_dot_gops, m.cpu.int8_dot_gops);
  EXPECT_TRUE(back->has_gpu);
  EXPECT_EQ(back->gpu.name, m.gpu.name);
  EXPECT_EQ(back->gpu.sms, m.gpu.sms);
  EXPECT_EQ(back->gpu.l2_bytes, m.gpu.l2_bytes);
  EXPECT_EQ(back->gpu.copy_gbps, m.gpu.copy_gbps);
  EXPECT_EQ(back->gpu.bf16_tflops, m.gpu.bf16_tflops);
}

TEST(ProbeJson, RoundTripWithoutGpu) {
  MachineProbe m = sample_probe();
  m.has_gpu = false;
  m.gpu = GpuCeilings{};
  const Result<MachineProbe> back = probe_from_json(probe_to_json(m));
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_FALSE(back->has_gpu);
  EXPECT_EQ(back->cpu.mem_gbps, m.cpu.mem_gbps);
}

TEST(ProbeJson, RejectsMalformedText) {
  for (const std::string text : {"", "{", "not json", "{\"version\": 1,", "\x01\x02", "null", "[]", "42"}) {
    const Result<MachineProbe> r = probe_from_json(text);
    ASSERT_FALSE(r.ok()) << "accepted: " << text;
    EXPECT_EQ(r.status().code(), StatusCode::invalid_argument);
    EXPECT_EQ(r.status().op(), "probe");
    EXPECT_FALSE(r.status().param().empty());
  }
}

// Replaces one field of a valid document and expects the error to name that field.
void expect_rejected(const std::string& from, const std::string& to, const std::string& param) {
  const std::string good = probe_to_json(sample_probe());
  const size_t at = good.find(from);
  ASSERT_NE(at, std::string::npos) << from;
  std::string text = good;
  text.replace(at, from.size(), to);
  const Result<MachineProbe> r = probe_from_json(text);
  ASSERT_FALSE(r.ok()) << "accepted " << to;
  EXPECT_EQ(r.status().code(), StatusCode::invalid_argument);
  EXPECT_EQ(r.status().op(), "probe");
  EXPECT_EQ(r.status().param(), param) << r.status().message();
}

TEST(ProbeJson, RejectsWrongTypesNamingTheField) {
  expect_rejected("\"cores\": 96", "\"cores\": \"ninety-six\"", "cpu.cores");
  expect_rejected("\"cores\": 96", "\"cores\": -4", "cpu.cores");
  expect_rejected("\"cores\": 96", "\"cores\": 9.5", "cpu.cores");
  expect_rejected("\"cores\": 96", "\"cores\": 99999999999", "cpu.cores");
  expect_rejected("\"mem_gbps\": 231.12345678901235", "\"mem_gbps\": \"fast\"", "cpu.mem_gbps");
  expect_rejected("\"mem_gbps\": 231.12345678901235", "\"mem_gbps\": -1.0", "cpu.mem_gbps");
  expect_rejected("\"has_gpu\": true", "\"has_gpu\": \"yes\"", "has_gpu");
  expect_rejected("\"host\": \"box-0123abcd\"", "\"host\": 7", "host");
  expect_rejected("\"sse4_2\",", "3,", "cpu.isa");
  expect_rejected("\"read_gbps\": 187.25", "\"read_gbps\": \"lots\"", "cpu.read_gbps");
  expect_rejected(",\n    \"read_gbps\": 187.25", "", "cpu.read_gbps");  // a version-1 cache lacks it
  expect_rejected("\"bf16_dot_gflops\": 13086.5", "\"bf16_dot_gflops\": -2.0", "cpu.bf16_dot_gflops");
  expect_rejected("\"bf16_dot_gflops\": 13086.5,", "", "cpu.bf16_dot_gflops");  // a version-2 cache lacks it
  expect_rejected("\"int8_dot_gops\": 26173.25", "\"int8_dot_gops\": null", "cpu.int8_dot_gops");
  expect_rejected("\"int8_dot_gops\": 26173.25,", "", "cpu.int8_dot_gops");  // a version-3 cache lacks it
  expect_rejected("\"version\": 4", "\"version\": 99", "version");
  expect_rejected("\"version\": 4", "\"version\": 3", "version");
  expect_rejected("\"sms\": 132", "\"sms\": null", "gpu.sms");
  expect_rejected("\"measured_at\"", "\"measured\"", "measured_at");
}

TEST(ProbeRoofline, CpuAndCuda) {
  const MachineProbe m = sample_probe();
  const Roofline c = roofline_for(m, Device::cpu);
  EXPECT_DOUBLE_EQ(c.bytes_per_s, m.cpu.mem_gbps * 1e9);
  EXPECT_DOUBLE_EQ(c.flops_per_s, m.cpu.fma_gflops * 1e9);
  EXPECT_DOUBLE_EQ(c.matrix_flops_per_s, m.cpu.bf16_dot_gflops * 1e9);  // bf16 is judged against it
  EXPECT_DOUBLE_EQ(c.int8_ops_per_s, m.cpu.int8_dot_gops * 1e9);
  MachineProbe no_dot = m;
  no_dot.cpu.bf16_dot_gflops = 0;  // a CPU without AVX512-BF16 or VNNI: the vector peak is the ceiling
  no_dot.cpu.int8_dot_gops = 0;
  EXPECT_DOUBLE_EQ(roofline_for(no_dot, Device::cpu).matrix_flops_per_s, c.flops_per_s);
  EXPECT_DOUBLE_EQ(roofline_for(no_dot, Device::cpu).int8_ops_per_s, c.flops_per_s);
  const Roofline g = roofline_for(m, Device::cuda);
  EXPECT_DOUBLE_EQ(g.bytes_per_s, m.gpu.copy_gbps * 1e9);
  EXPECT_DOUBLE_EQ(g.flops_per_s, m.gpu.bf16_tflops * 1e12);
  EXPECT_DOUBLE_EQ(g.matrix_flops_per_s, g.flops_per_s);
  EXPECT_EQ(c.units, m.cpu.cores);  // what a cost model spreads work over
  EXPECT_EQ(g.units, m.gpu.sms);
}

// Each kind of work is judged against its own unit: f32 vector FMAs, the bf16 matrix peak (fp8 at
// twice it), and the int8 dot peak for int8-bound work, which falls back to the matrix peak where
// the probe measured none.
TEST(ProbeRoofline, ComputePeakPicksTheBindingUnit) {
  const Roofline c = roofline_for(sample_probe(), Device::cpu);
  Work vec;
  EXPECT_DOUBLE_EQ(compute_peak(vec, c), c.flops_per_s);
  Work bf16;
  bf16.matrix_bound = true;
  EXPECT_DOUBLE_EQ(compute_peak(bf16, c), c.matrix_flops_per_s);
  Work fp8 = bf16;
  fp8.matrix_rate = 2;
  EXPECT_DOUBLE_EQ(compute_peak(fp8, c), 2 * c.matrix_flops_per_s);
  Work q = bf16;
  q.int8_bound = true;
  EXPECT_DOUBLE_EQ(compute_peak(q, c), c.int8_ops_per_s);
  Roofline no_int8 = c;
  no_int8.int8_ops_per_s = 0;
  EXPECT_DOUBLE_EQ(compute_peak(q, no_int8), c.matrix_flops_per_s);
}

// Points TESSEL_CACHE_DIR at a fresh temporary directory for one test and restores it afterwards,
// so the tests never read or overwrite the user's real cache.
class ProbeCache : public ::testing::Test {
 protected:
  void SetUp() override {
    if (const char* old = std::getenv("TESSEL_CACHE_DIR")) saved_ = old;
    std::string tmpl = (fs::temp_directory_path() / "tessel-probe-test-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    root_ = tmpl;
    dir_ = root_ / "nested" / "cache";  // does not exist yet: the probe must create it
    setenv("TESSEL_CACHE_DIR", dir_.c_str(), 1);
  }
  void TearDown() override {
    if (saved_) setenv("TESSEL_CACHE_DIR", saved_->c_str(), 1);
    else unsetenv("TESSEL_CACHE_DIR");
    std::error_code ec;
    fs::remove_all(root_, ec);
  }
  fs::path cache_file(const MachineProbe& m) const { return dir_ / ("probe-" + m.host + ".json"); }

  std::optional<std::string> saved_;
  fs::path root_, dir_;
};

// One test walks the whole cache life cycle, so it needs only three quick measurements.
TEST_F(ProbeCache, WritesReadsRefreshesAndRecovers) {
  const Result<MachineProbe> first = load_or_run_probe(/*refresh=*/false, /*quick=*/true);
  ASSERT_TRUE(first.ok()) << first.status().message();
  const fs::path file = cache_file(*first);
  ASSERT_TRUE(fs::exists(file)) << file;

  const Result<MachineProbe> second = load_or_run_probe(false, true);
  ASSERT_TRUE(second.ok()) << second.status().message();
  EXPECT_EQ(second->measured_at, first->measured_at);
  EXPECT_EQ(second->cpu.mem_gbps, first->cpu.mem_gbps);  // a new measurement would differ in some digit

  // A planted value proves a later call reads the file rather than measuring again.
  MachineProbe planted = *first;
  planted.cpu.mem_gbps = 12345.5;
  planted.measured_at = "2000-01-01T00:00:00Z";
  write_all(file, probe_to_json(planted));
  const Result<MachineProbe> third = load_or_run_probe(false, true);
  ASSERT_TRUE(third.ok()) << third.status().message();
  EXPECT_EQ(third->cpu.mem_gbps, 12345.5);
  EXPECT_EQ(third->measured_at, "2000-01-01T00:00:00Z");

  // refresh=true ignores the cache and overwrites it.
  const Result<MachineProbe> fresh = load_or_run_probe(true, true);
  ASSERT_TRUE(fresh.ok()) << fresh.status().message();
  EXPECT_NE(fresh->measured_at, "2000-01-01T00:00:00Z");
  const Result<MachineProbe> after_refresh = probe_from_json(read_all(file));
  ASSERT_TRUE(after_refresh.ok()) << after_refresh.status().message();
  EXPECT_EQ(after_refresh->measured_at, fresh->measured_at);

  // A corrupt file is measured over and replaced, not reported as an error.
  write_all(file, "{\"version\": 1, \"host\": [garbage");
  const Result<MachineProbe> recovered = load_or_run_probe(false, true);
  ASSERT_TRUE(recovered.ok()) << recovered.status().message();
  EXPECT_GT(recovered->cpu.mem_gbps, 0);
  EXPECT_NE(recovered->cpu.mem_gbps, fresh->cpu.mem_gbps);
  const Result<MachineProbe> rewritten = probe_from_json(read_all(file));
  ASSERT_TRUE(rewritten.ok()) << rewritten.status().message();
  EXPECT_EQ(rewritten->cpu.mem_gbps, recovered->cpu.mem_gbps);
}

TEST_F(ProbeCache, UnwritableCacheStillReturnsTheProbe) {
  // A regular file where the cache directory should be: creating the directory fails.
  write_all(root_ / "blocker", "x");
  setenv("TESSEL_CACHE_DIR", (root_ / "blocker" / "cache").c_str(), 1);
  const Result<MachineProbe> r = load_or_run_probe(false, true);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_GT(r->cpu.fma_gflops, 0);
}

// "YYYY-MM-DDTHH:MM:SSZ". Checked by hand: std::regex trips GCC 12 -Wmaybe-uninitialized under sanitizers.
bool looks_like_utc_iso8601(const std::string& s) {
  const std::string shape = "dddd-dd-ddTdd:dd:ddZ";
  if (s.size() != shape.size()) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    const bool ok = shape[i] == 'd' ? (s[i] >= '0' && s[i] <= '9') : s[i] == shape[i];
    if (!ok) return false;
  }
  return true;
}

TEST(ProbeRun, QuickProbeIsSane) {
  const Result<MachineProbe> r = run_probe(/*quick=*/true);
  ASSERT_TRUE(r.ok()) << r.status().message();
  const CpuProbe& cpu = r->cpu;
  EXPECT_GE(cpu.cores, 1);
  EXPECT_GT(cpu.mem_gbps, 0);
  EXPECT_GT(cpu.read_gbps, 0);
  EXPECT_GT(cpu.fma_gflops, 0);
  const bool has_bf16 = std::find(cpu.isa.begin(), cpu.isa.end(), "avx512_bf16") != cpu.isa.end();
  if (has_bf16) {
    EXPECT_GT(cpu.bf16_dot_gflops, 0);
  } else {
    EXPECT_EQ(cpu.bf16_dot_gflops, 0);
  }
  const bool has_vnni = std::find(cpu.isa.begin(), cpu.isa.end(), "avx512_vnni") != cpu.isa.end();
  if (has_vnni) {
    EXPECT_GT(cpu.int8_dot_gops, 0);
  } else {
    EXPECT_EQ(cpu.int8_dot_gops, 0);
  }
  EXPECT_FALSE(cpu.model.empty());
  EXPECT_FALSE(r->host.empty());
  EXPECT_TRUE(looks_like_utc_iso8601(r->measured_at)) << r->measured_at;
  const bool has_avx2 = std::find(cpu.isa.begin(), cpu.isa.end(), "avx2") != cpu.isa.end();
#if defined(__x86_64__) || defined(__i386__)
  EXPECT_EQ(has_avx2, static_cast<bool>(__builtin_cpu_supports("avx2")));
#else
  EXPECT_FALSE(has_avx2);
#endif
  if (fs::exists("/sys/devices/system/cpu/cpu0/cache/index0")) {
    EXPECT_GT(cpu.llc_bytes, 0u);
    EXPECT_FALSE(cpu.caches.empty());
  }
}

}  // namespace
}  // namespace tessel
