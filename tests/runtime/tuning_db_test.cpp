// The tuning database: JSON round trip, lookups that must miss, errors naming the file, stale entries.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "tessel/runtime/registry.hpp"
#include "tessel/runtime/tuning_db.hpp"

namespace tessel {
namespace {

namespace fs = std::filesystem;

TunedEntry entry(const std::string& device, const std::string& impl, const std::string& problem, Config config) {
  return TunedEntry{device, impl, problem, std::move(config), 1.5e-3, 2.5e-3, "abc123", "2026-11-29T00:00:00Z"};
}

fs::path temp_path(const std::string& name) { return fs::temp_directory_path() / name; }

void write_all(const fs::path& path, const std::string& text) { std::ofstream(path, std::ios::binary) << text; }

TEST(TuningDb, RoundTripsThroughAFile) {
  TuningDb db;
  db.put(entry("cpu X, 2 threads", "cpu.simd", "gemm m=8 n=8 k=8", {{"mc", 84}, {"stream_b", -1}}));
  db.put(entry("cuda:0 NVIDIA H200", "cuda.wgmma", "gemm m=128 n=4096 k=4096 dtype=bf16", {{"splits", 2}}));
  const std::string path = temp_path("tessel_tuning_db_roundtrip.json").string();
  ASSERT_TRUE(db.save(path).ok());
  auto back = TuningDb::load(path);
  ASSERT_TRUE(back.ok()) << back.status().message();
  ASSERT_EQ(back->entries().size(), 2u);
  const TunedEntry* e = back->find("cpu X, 2 threads", "cpu.simd", "gemm m=8 n=8 k=8");
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->config, (Config{{"mc", 84}, {"stream_b", -1}}));
  EXPECT_DOUBLE_EQ(e->tuned_s, 1.5e-3);
  EXPECT_DOUBLE_EQ(e->default_s, 2.5e-3);
  EXPECT_EQ(e->commit, "abc123");
  EXPECT_EQ(e->date, "2026-11-29T00:00:00Z");
  EXPECT_EQ(back->to_json(), db.to_json());
}

TEST(TuningDb, PutReplacesTheSameKey) {
  TuningDb db;
  db.put(entry("d", "i", "p", {{"a", 1}}));
  db.put(entry("d", "i", "p", {{"a", 2}}));
  ASSERT_EQ(db.entries().size(), 1u);
  EXPECT_EQ(db.find("d", "i", "p")->config.at("a"), 2);
}

TEST(TuningDb, LookupMissesOnAnotherDeviceImplOrProblem) {
  TuningDb db;
  db.put(entry("dev A", "cpu.simd", "gemm m=8 n=8 k=8", {{"mc", 84}}));
  EXPECT_NE(db.find("dev A", "cpu.simd", "gemm m=8 n=8 k=8"), nullptr);
  EXPECT_EQ(db.find("dev B", "cpu.simd", "gemm m=8 n=8 k=8"), nullptr);
  EXPECT_EQ(db.find("dev A", "cpu.fused", "gemm m=8 n=8 k=8"), nullptr);
  EXPECT_EQ(db.find("dev A", "cpu.simd", "gemm m=8 n=8 k=9"), nullptr);
}

TEST(TuningDb, MissingFileIsEmpty) {
  auto db = TuningDb::load(temp_path("tessel_tuning_db_does_not_exist.json").string());
  ASSERT_TRUE(db.ok()) << db.status().message();
  EXPECT_TRUE(db->entries().empty());
}

TEST(TuningDb, MalformedFileIsAnErrorNamingIt) {
  const fs::path path = temp_path("tessel_tuning_db_malformed.json");
  for (const char* text :
       {"{\"version\": 1, \"entries\": [", "[]", "{\"version\": 2, \"entries\": []}", "{\"version\": 1}",
        "{\"version\": 1, \"entries\": [{\"device\": \"d\"}]}",
        "{\"version\": 1, \"entries\": [{\"device\": \"d\", \"impl\": \"i\", \"problem\": \"p\", \"commit\": \"c\", "
        "\"date\": \"t\", \"tuned_s\": 1, \"default_s\": 1, \"config\": {\"a\": \"x\"}}]}"}) {
    write_all(path, text);
    auto db = TuningDb::load(path.string());
    ASSERT_FALSE(db.ok()) << text;
    EXPECT_NE(db.status().message().find(path.string()), std::string::npos) << db.status().message();
  }
}

TEST(TuningDb, UnreadableFileIsAnErrorNamingIt) {
  const fs::path dir = temp_path("tessel_tuning_db_is_a_directory");
  fs::create_directories(dir);
  auto db = TuningDb::load(dir.string());
  ASSERT_FALSE(db.ok());
  EXPECT_NE(db.status().message().find(dir.string()), std::string::npos) << db.status().message();
}

TEST(TuningDb, DefaultPathHonorsTheEnvironment) {
  setenv("TESSEL_TUNE_DB", "/some/where/tune.json", 1);
  EXPECT_EQ(default_tuning_db_path(), "/some/where/tune.json");
  unsetenv("TESSEL_TUNE_DB");
  const char* old = std::getenv("TESSEL_CACHE_DIR");
  const std::string saved = old ? old : "";
  setenv("TESSEL_CACHE_DIR", "/cache/dir", 1);
  EXPECT_EQ(default_tuning_db_path(), "/cache/dir/tune.json");  // next to the probe's cache
  if (old) setenv("TESSEL_CACHE_DIR", saved.c_str(), 1);
  else unsetenv("TESSEL_CACHE_DIR");
}

// The lookup the harness makes: this machine's entry applies if it still checks; a stale one is
// skipped with a warning that says why.
TEST(TuningDb, TunedConfigAppliesOnlyWhenItChecks) {
  const Registry& reg = Registry::global();
  const Implementation* impl = reg.impl("gemm", "cpu.simd");
  ASSERT_NE(impl, nullptr);
  auto p = reg.parse("gemm m=8 n=8 k=8");
  ASSERT_TRUE(p.ok());
  const std::string problem = reg.spec("gemm")->format(*p);
  const std::string here = tuning_device(Device::cpu, 0);
  TuningDb db;
  db.put(entry(here, "cpu.simd", problem, {{"mc", 84}}));
  TunedChoice c = tuned_config(db, *impl, *p, problem, 0);
  EXPECT_TRUE(c.found);
  EXPECT_EQ(c.config, (Config{{"mc", 84}}));
  EXPECT_TRUE(c.warning.empty());
  EXPECT_FALSE(tuned_config(db, *impl, *p, problem, 1000).found) << "another thread count is another device";

  db.put(entry(here, "cpu.simd", problem, {{"mc", 85}}));  // not one of mc's values any more
  c = tuned_config(db, *impl, *p, problem, 0);
  EXPECT_FALSE(c.found);
  EXPECT_TRUE(c.config.empty());
  EXPECT_NE(c.warning.find("no longer checks"), std::string::npos) << c.warning;
  EXPECT_NE(c.warning.find("mc"), std::string::npos) << c.warning;
}

}  // namespace
}  // namespace tessel
