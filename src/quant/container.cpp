// The packed-weight file: a magic, a JSON header (format, shape, sections, error) and aligned tensors.
#include "tessel/quant/container.hpp"

#include <cmath>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>

namespace tessel::quant {
namespace {

constexpr int64_t kAlign = 64;

Status io(const std::string& path, const std::string& what) {
  return Status::error(StatusCode::io_error, "quant", path, what);
}
Status bad(const std::string& path, const std::string& what) {
  return Status::invalid("quant", path, "not a valid packed-weight file: " + what);
}

int64_t align_up(int64_t x) { return (x + kAlign - 1) / kAlign * kAlign; }

void put_u32(std::string& s, uint32_t v) {
  for (int i = 0; i < 4; ++i) s.push_back(char((v >> (8 * i)) & 0xff));
}
uint32_t get_u32(const unsigned char* p) {
  return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
}

}  // namespace

Status write_packed(const std::string& path, const PackedMatrix& m, const QuantReport* report) {
  nlohmann::json h;
  h["format"] = m.fmt.name();
  h["scheme"] = std::string(scheme_name(m.fmt.scheme));
  h["bits"] = m.fmt.bits;
  h["group"] = m.fmt.group;
  h["scale_dtype"] = std::string(dtype_name(m.fmt.scale_dtype));
  h["layout_version"] = kLayoutVersion;
  h["n"] = m.n;
  h["k"] = m.k;
  if (m.fmt.has_global_scale()) h["global_scale"] = m.global_scale;
  if (report) {
    h["error"] = {{"rmse", report->rmse},
                  {"sqnr_db", std::isfinite(report->sqnr_db) ? report->sqnr_db : 999.0},
                  {"max_abs_error", report->max_abs_error},
                  {"rel_l2", report->rel_l2},
                  {"bits_per_weight", report->bits_per_weight}};
  }
  // Section offsets depend on the header's length, which depends on the offsets' digits: fix the
  // header length first with generous placeholders, then fill in the real values.
  struct Sec {
    const char* name;
    const std::vector<uint8_t>* data;
  };
  std::vector<Sec> secs = {{"weights", &m.weights}, {"scales", &m.scales}};
  if (m.fmt.has_zeros()) secs.push_back({"zeros", &m.zeros});
  int64_t header_room = 0;
  std::string text;
  for (int attempt = 0; attempt < 3; ++attempt) {
    int64_t off = align_up(16 + header_room);
    for (const Sec& s : secs) {
      h["sections"][s.name] = {{"offset", off}, {"bytes", int64_t(s.data->size())}};
      off = align_up(off + int64_t(s.data->size()));
    }
    text = h.dump();
    if (int64_t(text.size()) <= header_room) break;
    header_room = int64_t(text.size()) + 64;
  }
  std::string head(kContainerMagic, 8);
  put_u32(head, kContainerVersion);
  put_u32(head, uint32_t(text.size()));
  head += text;
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  if (!f) return io(path, "cannot open for writing");
  f.write(head.data(), std::streamsize(head.size()));
  int64_t pos = int64_t(head.size());
  for (const Sec& s : secs) {
    const int64_t off = h["sections"][s.name]["offset"].get<int64_t>();
    const std::string pad(size_t(off - pos), '\0');
    f.write(pad.data(), std::streamsize(pad.size()));
    f.write(reinterpret_cast<const char*>(s.data->data()), std::streamsize(s.data->size()));
    pos = off + int64_t(s.data->size());
  }
  if (!f) return io(path, "write failed");
  return {};
}

Result<PackedMatrix> read_packed(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return io(path, "cannot open for reading");
  std::vector<unsigned char> all((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  if (all.size() < 16 || std::memcmp(all.data(), kContainerMagic, 8) != 0) return bad(path, "missing TSLQUANT magic");
  if (get_u32(all.data() + 8) != uint32_t(kContainerVersion))
    return bad(path, "container version " + std::to_string(get_u32(all.data() + 8)) + " (this tessel reads 1)");
  const uint32_t hlen = get_u32(all.data() + 12);
  if (16 + uint64_t(hlen) > all.size()) return bad(path, "header runs past the end of the file");
  nlohmann::json h = nlohmann::json::parse(all.begin() + 16, all.begin() + 16 + hlen, nullptr, false);
  if (h.is_discarded() || !h.is_object()) return bad(path, "header is not a JSON object");
  PackedMatrix m;
  try {
    if (h.at("layout_version").get<int>() != kLayoutVersion)
      return bad(path, "layout version " + std::to_string(h.at("layout_version").get<int>()) + " (this tessel reads " +
                           std::to_string(kLayoutVersion) + ")");
    auto sdt = parse_dtype(h.at("scale_dtype").get<std::string>());
    if (!sdt) return bad(path, "unknown scale dtype");
    auto fmt = make_format(h.at("scheme").get<std::string>(), h.at("bits").get<int>(), h.at("group").get<int64_t>(), *sdt);
    if (!fmt.ok()) return bad(path, fmt.status().message());
    m.fmt = *fmt;
    m.n = h.at("n").get<int64_t>();
    m.k = h.at("k").get<int64_t>();
    if (m.n < 1 || m.k < 1 || m.n > (int64_t{1} << 31) || m.k > (int64_t{1} << 31)) return bad(path, "bad shape");
    if (m.fmt.has_global_scale()) m.global_scale = h.at("global_scale").get<float>();
    const Shapes s = shapes(m.fmt, m.n, m.k);
    auto section = [&](const char* name, int64_t want, std::vector<uint8_t>& out) -> Status {
      const auto& sec = h.at("sections").at(name);
      const int64_t off = sec.at("offset").get<int64_t>(), bytes = sec.at("bytes").get<int64_t>();
      if (bytes != want) return bad(path, std::string(name) + " holds " + std::to_string(bytes) + " bytes, the shape needs " + std::to_string(want));
      if (off < 16 + int64_t(hlen) || off + bytes > int64_t(all.size())) return bad(path, std::string(name) + " lies outside the file");
      out.assign(all.begin() + off, all.begin() + off + bytes);
      return {};
    };
    TESSEL_RETURN_IF_ERROR(section("weights", s.weight_bytes, m.weights));
    TESSEL_RETURN_IF_ERROR(section("scales", int64_t(dtype_storage_bytes(m.fmt.scale_dtype, s.scale_count)), m.scales));
    if (m.fmt.has_zeros())
      TESSEL_RETURN_IF_ERROR(section("zeros", int64_t(dtype_storage_bytes(m.fmt.scale_dtype, s.zero_count)), m.zeros));
  } catch (const nlohmann::json::exception& e) {
    return bad(path, std::string("header: ") + e.what());
  }
  return m;
}

}  // namespace tessel::quant
