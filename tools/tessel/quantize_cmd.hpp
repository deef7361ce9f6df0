// `tessel quantize`: a raw f32/bf16 matrix file -> a packed-weight file plus its error report.
#pragma once

#include <cstdint>
#include <string>

namespace CLI {
class App;
}

namespace tessel::cli {

struct QuantizeOptions {
  std::string input;            // raw row-major matrix, no header
  std::string output;           // packed-weight file (docs/formats.md)
  int64_t rows = 0, cols = 0;   // N (output features) and K (input features)
  std::string dtype = "f32";    // of the input: f32 or bf16
  std::string format = "int";   // int|uint|ternary|mxfp4|mxint8|nvfp4
  int wbits = 0;                // 0: the format's default
  std::string group = "auto";   // auto|32|64|...|256|channel
  std::string sdtype = "f16";   // planar scale dtype
  std::string json;             // optional: write the report as JSON here
};

// Adds the subcommand to `app`; main() runs it with run_quantize_command when it was given:
//   QuantizeOptions qopt;
//   CLI::App* quant = add_quantize_command(app, qopt);
//   ...  if (*quant) return run_quantize_command(qopt);
CLI::App* add_quantize_command(CLI::App& app, QuantizeOptions& opt);

// Exit codes as for every tessel command: 0 done, 2 bad input (unreadable or malformed file,
// inconsistent options, non-finite weights), reported on one line.
int run_quantize_command(const QuantizeOptions& opt);

}  // namespace tessel::cli
