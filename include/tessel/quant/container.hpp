// The packed-weight file: one quantized matrix with its format, shape and error report (docs/formats.md).
#pragma once

#include <string>

#include "tessel/core/status.hpp"
#include "tessel/quant/quantize.hpp"

namespace tessel::quant {

// File layout, little-endian: the 8-byte magic "TSLQUANT", u32 container version (1), u32 length of
// a JSON header, the header, then each tensor at the 64-byte-aligned offset the header gives.
inline constexpr char kContainerMagic[8] = {'T', 'S', 'L', 'Q', 'U', 'A', 'N', 'T'};
inline constexpr int kContainerVersion = 1;

// Writes `m` to `path`; `report` (if given) is stored in the header for later inspection.
Status write_packed(const std::string& path, const PackedMatrix& m, const QuantReport* report = nullptr);
// Reads and checks a file written by write_packed: magic, versions, format, sizes and offsets.
Result<PackedMatrix> read_packed(const std::string& path);

}  // namespace tessel::quant
