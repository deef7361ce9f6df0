// Which SIMD code the CPU kernels run: the best this CPU has, or an older target that
// TESSEL_CPU_ISA names, so that the AVX2 path can be verified and timed on an AVX-512 machine.
#pragma once

#include <string>

#include "tessel/core/status.hpp"

namespace tessel::cpu {

// Reads TESSEL_CPU_ISA and limits the CPU kernels' runtime dispatch to that target and the ones
// below it: avx3_dl (AVX-512 with VNNI and VBMI), avx3 (AVX-512 F/BW/DQ/VL), avx2 or sse4. Unset
// or empty: the best target the CPU runs. Call it before any kernel runs (the tessel CLI does).
// Errors, with the variable named: an unknown name, or a target this CPU cannot run.
Status apply_isa_from_env();

// The best SIMD target the CPU kernels may dispatch to now, in Highway's names ("AVX3_DL", "AVX2").
std::string simd_target();

// "TESSEL_CPU_ISA=<name> " while the variable is set and not empty, else "": the start of a repro
// line for a CPU implementation, so that it runs the same code again.
std::string isa_env_prefix();

}  // namespace tessel::cpu
