// The tuning database: JSON load and save, lookup by (device, implementation, problem), device names.
#include "tessel/runtime/tuning_db.hpp"

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "machine_files.hpp"
#include "tessel/runtime/backend.hpp"
#include "tessel/runtime/probe.hpp"

namespace tessel {
namespace {

using nlohmann::json;

constexpr int kVersion = 1;

Status malformed(const std::string& source, const std::string& what) {
  return Status::error(StatusCode::invalid_argument, "tuning database", source,
                       what + " (fix or delete the file; `tessel tune` writes a new one)");
}

}  // namespace

Result<TuningDb> TuningDb::from_json(const std::string& text, const std::string& source) {
  json j;
  try {
    j = json::parse(text);
  } catch (const json::exception& e) {
    return malformed(source, std::string("not valid JSON: ") + e.what());
  }
  if (!j.is_object() || !j.contains("version") || !j["version"].is_number_integer() || j["version"] != kVersion)
    return malformed(source, "expected an object with \"version\": " + std::to_string(kVersion));
  if (!j.contains("entries") || !j["entries"].is_array()) return malformed(source, "expected an \"entries\" array");
  TuningDb db;
  for (size_t i = 0; i < j["entries"].size(); ++i) {
    const json& e = j["entries"][i];
    const std::string where = "entry " + std::to_string(i);
    if (!e.is_object()) return malformed(source, where + " is not an object");
    TunedEntry t;
    for (auto [key, field] : {std::pair{"device", &t.device}, {"impl", &t.impl}, {"problem", &t.problem},
                              {"commit", &t.commit}, {"date", &t.date}}) {
      if (!e.contains(key) || !e[key].is_string()) return malformed(source, where + ": \"" + key + "\" must be a string");
      *field = e[key].get<std::string>();
    }
    for (auto [key, field] : {std::pair{"tuned_s", &t.tuned_s}, {"default_s", &t.default_s}}) {
      if (!e.contains(key) || !e[key].is_number()) return malformed(source, where + ": \"" + key + "\" must be a number");
      *field = e[key].get<double>();
    }
    if (!e.contains("config") || !e["config"].is_object()) return malformed(source, where + ": \"config\" must be an object");
    for (const auto& [name, value] : e["config"].items()) {
      if (!value.is_number_integer()) return malformed(source, where + ": config \"" + name + "\" must be an integer");
      t.config[name] = value.get<int64_t>();
    }
    db.put(std::move(t));
  }
  return db;
}

Result<TuningDb> TuningDb::load(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec) && !ec) return TuningDb{};
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::error(StatusCode::io_error, "tuning database", path, "cannot be read");
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return Status::error(StatusCode::io_error, "tuning database", path, "read failed");
  return from_json(text.str(), path);
}

std::string TuningDb::to_json() const {
  json entries = json::array();
  for (const auto& e : entries_) {
    json config = json::object();
    for (const auto& [k, v] : e.config) config[k] = v;
    entries.push_back({{"device", e.device},   {"impl", e.impl},         {"problem", e.problem},
                       {"config", config},     {"tuned_s", e.tuned_s},   {"default_s", e.default_s},
                       {"commit", e.commit},   {"date", e.date}});
  }
  return json{{"version", kVersion}, {"entries", entries}}.dump(2) + "\n";
}

Status TuningDb::save(const std::string& path) const {
  if (!machine::write_file_atomically(path, to_json()))
    return Status::error(StatusCode::io_error, "tuning database", path, "cannot be written");
  return {};
}

const TunedEntry* TuningDb::find(const std::string& device, const std::string& impl, const std::string& problem) const {
  for (const auto& e : entries_)
    if (e.device == device && e.impl == impl && e.problem == problem) return &e;
  return nullptr;
}

void TuningDb::put(TunedEntry e) {
  for (auto& old : entries_)
    if (old.device == e.device && old.impl == e.impl && old.problem == e.problem) {
      old = std::move(e);
      return;
    }
  entries_.push_back(std::move(e));
}

std::string default_tuning_db_path() {
  if (const char* p = std::getenv("TESSEL_TUNE_DB"); p != nullptr && *p != '\0') return p;
  const std::string dir = cache_directory();
  return dir.empty() ? std::string() : (std::filesystem::path(dir) / "tune.json").string();
}

std::string tuning_device(Device d, int threads) {
  if (d == Device::cpu) {
    // Read once: the harness asks for every row it runs.
    static const std::string model = machine::cpu_model_name();
    static const int cores = machine::usable_core_count();
    return model + ", " + std::to_string(threads > 0 ? threads : cores) + " threads";
  }
  std::string why;
  Backend* be = backend_for(d, &why);
  return be ? be->name() : std::string(device_name(d)) + " (unavailable)";
}

TunedChoice tuned_config(const TuningDb& db, const Implementation& impl, const Problem& p, const std::string& canonical,
                         int threads) {
  TunedChoice c;
  if (db.entries().empty()) return c;
  const TunedEntry* e = db.find(tuning_device(impl.device(), threads), impl.name(), canonical);
  if (e == nullptr) return c;
  if (Status st = check_config(impl, p, e->config); !st.ok()) {
    c.warning = "tuned config " + format_config(e->config) + " (tuned " + e->date + ") no longer checks, running the "
                "defaults: " + st.message();
    return c;
  }
  c.found = true;
  c.config = e->config;
  return c;
}

}  // namespace tessel
