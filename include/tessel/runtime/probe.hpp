// Probe: the machine's measured ceilings (memory bandwidth, FMA and matrix rates), cached per machine.
#pragma once

#include <string>
#include <vector>

#include "tessel/core/status.hpp"
#include "tessel/core/tensor.hpp"

namespace tessel {

struct CpuProbe {
  std::string model;
  std::vector<std::string> isa;  // e.g. "avx2", "fma", "avx512f", "avx512_bf16", "amx_bf16"
  int cores = 0;                 // hardware threads usable by this process
  std::vector<std::string> caches;  // e.g. "L1d 48 KiB", "L2 2 MiB", "L3 105 MiB"
  size_t llc_bytes = 0;
  double mem_gbps = 0;      // measured: read+write bytes of a large copy with all threads, GB/s
  double read_gbps = 0;     // measured: bytes of a large read-only stream with all threads, GB/s (what a
                            // GEMV's weight stream can reach; a copy shares the bus with its writes)
  double fma_gflops = 0;    // measured: f32 FMA peak with all threads and the widest vector ISA
  double bf16_dot_gflops = 0;  // measured: AVX512-BF16 vdpbf16ps peak with all threads; 0 without it
  double int8_dot_gops = 0;    // measured: AVX512-VNNI vpdpbusd peak with all threads, 2 ops a
                               // multiply-add; 0 without it
};

struct GpuCeilings {
  std::string name;
  int sms = 0;
  size_t l2_bytes = 0;
  double copy_gbps = 0;     // measured device-to-device copy, read+write bytes
  double bf16_tflops = 0;   // measured cuBLAS bf16 GEMM peak on random data
};

struct MachineProbe {
  std::string host;         // machine identity used as the cache key
  CpuProbe cpu;
  bool has_gpu = false;
  GpuCeilings gpu;
  std::string measured_at;  // ISO-8601 UTC
};

// The ceilings for `d`: bytes/s and flop/s a bench row is judged against.
struct Roofline {
  double bytes_per_s = 0;
  double flops_per_s = 0;         // vector FMA peak (CPU) or bf16 matrix peak (GPU)
  double matrix_flops_per_s = 0;  // bf16 matrix peak: tensor cores (GPU), bf16 dot products (CPU) where
                                  // measured, else flops_per_s
  double int8_ops_per_s = 0;      // int8 dot-product peak (CPU, VNNI) where measured, else matrix_flops_per_s
  int units = 0;                  // parallel units the work spreads over: SMs (GPU), threads (CPU); 0 unknown
};

// Measures everything (takes a few seconds). `quick` shortens the measurements.
Result<MachineProbe> run_probe(bool quick);
// Reads the cached probe for this machine, measuring and caching it when absent or when `refresh`.
// Cache file: $TESSEL_CACHE_DIR or $XDG_CACHE_HOME/tessel or ~/.cache/tessel, "probe-<host>.json".
Result<MachineProbe> load_or_run_probe(bool refresh, bool quick);
Roofline roofline_for(const MachineProbe& m, Device d);

// The directory tessel caches what it measured in (the probe, the tuning database):
// $TESSEL_CACHE_DIR, else $XDG_CACHE_HOME/tessel, else ~/.cache/tessel; empty when none can be found.
std::string cache_directory();

// Measures the GPU ceilings of device 0. Implemented by the CUDA backend (src/runtime/cuda_backend.cu)
// and only linked when tessel is built with TESSEL_WITH_CUDA; run_probe calls it only in that build.
// An error (no device, driver failure) means "no GPU": the CPU probe still succeeds.
Result<GpuCeilings> probe_gpu_ceilings(bool quick);

std::string probe_to_json(const MachineProbe& m);
Result<MachineProbe> probe_from_json(const std::string& text);

}  // namespace tessel
