// `tessel quantize`: reads a raw f32/bf16 matrix, quantizes it, writes a packed file, reports the error.
#include "quantize_cmd.hpp"

#include <CLI/CLI.hpp>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <vector>

#include "tessel/core/dtype.hpp"
#include "tessel/quant/container.hpp"
#include "tessel/quant/quantize.hpp"

namespace tessel::cli {
namespace {

constexpr int kBadInput = 2;

int fail(const std::string& msg) {
  std::fprintf(stderr, "tessel: quantize: %s\n", msg.c_str());
  return kBadInput;
}

}  // namespace

CLI::App* add_quantize_command(CLI::App& app, QuantizeOptions& opt) {
  auto* q = app.add_subcommand(
      "quantize",
      "quantize a raw row-major f32/bf16 matrix [rows, cols] into a packed-weight file and report the error\n"
      "(formats and the file layout: docs/formats.md)");
  q->add_option("input", opt.input, "raw matrix file (no header), row-major [rows, cols]")->required();
  q->add_option("-o,--output", opt.output, "packed-weight file to write")->required();
  q->add_option("--rows", opt.rows, "rows N (output features)")->required()->check(CLI::PositiveNumber);
  q->add_option("--cols", opt.cols, "columns K (input features, the quantized dimension)")->required()->check(CLI::PositiveNumber);
  q->add_option("--dtype", opt.dtype, "element type of the input")->check(CLI::IsMember({"f32", "bf16"}));
  q->add_option("--format", opt.format,
                "int (symmetric), uint (zero points), ternary (2 bits), ternary5 (five weights a byte), mxfp4, mxint8, nvfp4")
      ->check(CLI::IsMember({"int", "uint", "ternary", "ternary5", "mxfp4", "mxint8", "nvfp4"}));
  q->add_option("--wbits", opt.wbits, "bits per code, 1..8 for int/uint (default: 4; fixed for the others)")
      ->check(CLI::Range(0, 8));
  q->add_option("--group", opt.group, "weights per scale: 32, 64, 96, ..., 256 or channel (default 128; fixed for MX/NV)");
  q->add_option("--sdtype", opt.sdtype, "scale and zero-point type for int/uint/ternary/ternary5")->check(CLI::IsMember({"f16", "bf16", "f32"}));
  q->add_option("--json", opt.json, "also write the error report as JSON");
  return q;
}

int run_quantize_command(const QuantizeOptions& opt) {
  int64_t group = -1;
  if (opt.group == "channel") {
    group = 0;
  } else if (opt.group != "auto") {
    char* end = nullptr;
    group = std::strtoll(opt.group.c_str(), &end, 10);
    if (opt.group.empty() || *end != '\0' || group <= 0) return fail("--group: expected a number or 'channel', got '" + opt.group + "'");
  }
  auto fmt = quant::make_format(opt.format, opt.wbits, group, *parse_dtype(opt.sdtype));
  if (!fmt.ok()) return fail(fmt.status().message());
  if (opt.rows > (int64_t{1} << 31) || opt.cols > (int64_t{1} << 31) || double(opt.rows) * double(opt.cols) > double(int64_t{1} << 34))
    return fail("--rows x --cols: more than 2^34 elements");

  // Read and check the size before allocating for the matrix.
  std::ifstream f(opt.input, std::ios::binary | std::ios::ate);
  if (!f) return fail(opt.input + ": cannot open for reading");
  const std::streamoff size = f.tellg();
  const int64_t elem = opt.dtype == "bf16" ? 2 : 4;
  const int64_t want = opt.rows * opt.cols * elem;
  if (size < 0) return fail(opt.input + ": cannot determine the file size");
  if (int64_t(size) != want)
    return fail(opt.input + ": holds " + std::to_string(size) + " bytes, but " + std::to_string(opt.rows) + " x " +
                std::to_string(opt.cols) + " " + opt.dtype + " needs " + std::to_string(want));
  f.seekg(0);
  std::vector<float> w(size_t(opt.rows * opt.cols));
  if (opt.dtype == "f32") {
    f.read(reinterpret_cast<char*>(w.data()), std::streamsize(want));
  } else {
    std::vector<uint16_t> raw(w.size());
    f.read(reinterpret_cast<char*>(raw.data()), std::streamsize(want));
    for (size_t i = 0; i < w.size(); ++i) w[i] = bf16_bits_to_f32(raw[i]);
  }
  if (!f) return fail(opt.input + ": read failed");

  quant::QuantReport rep;
  auto packed = quant::quantize(*fmt, w.data(), opt.rows, opt.cols, &rep);
  if (!packed.ok()) return fail(opt.input + ": " + packed.status().message());
  if (auto s = quant::write_packed(opt.output, *packed, &rep); !s.ok()) return fail(s.message());

  std::printf("%s: %lld x %lld %s -> %s, %.3f bits/weight\n", opt.output.c_str(), (long long)opt.rows, (long long)opt.cols,
              opt.dtype.c_str(), fmt->name().c_str(), rep.bits_per_weight);
  std::printf("error: rmse %.4g  sqnr %.2f dB  rel_l2 %.4g  max |err| %.4g\n", rep.rmse, rep.sqnr_db, rep.rel_l2,
              rep.max_abs_error);
  if (!opt.json.empty()) {
    nlohmann::json j = {{"input", opt.input},
                        {"output", opt.output},
                        {"rows", opt.rows},
                        {"cols", opt.cols},
                        {"dtype", opt.dtype},
                        {"format", fmt->name()},
                        {"bits_per_weight", rep.bits_per_weight},
                        {"rmse", rep.rmse},
                        {"sqnr_db", std::isfinite(rep.sqnr_db) ? rep.sqnr_db : 999.0},
                        {"rel_l2", rep.rel_l2},
                        {"max_abs_error", rep.max_abs_error}};
    std::ofstream out(opt.json);
    out << j.dump(2) << "\n";
    if (!out) return fail(opt.json + ": cannot write the report");
  }
  return 0;
}

}  // namespace tessel::cli
