// ggml_matmul: times llama.cpp's ggml CPU backend on low-bit matmuls, the way `tessel bench` times
// tessel (docs/measuring.md), and writes the same JSON schema (tools/tessel/report.cpp), so the rows
// sit next to ours in bench/results/cpu/. Built and run by scripts/ggml-compare (which fetches and
// builds ggml); not part of the tessel build or CI.
//
// What is timed: one graph, Y = ggml_mul_mat(W, X) with W quantized [k x m_out] (ggml's ne order:
// k is the reduction) and X f32 [k x n], computed by the CPU backend with --threads threads
// (ggml_backend_graph_compute). X is f32 on purpose: ggml quantizes it (to q8_0 / q8_K) inside the
// op, as tessel's cpu.lut / cpu.idot quantize theirs, so both pay for it. Per problem:
//   - W holds random N(0,1) weights quantized by ggml_quantize_chunk. The k-quant and IQ searches
//     are slow on 4096 x 14336 weights, so 64 distinct rows are quantized and their blocks are
//     repeated over all rows (the kernels' speed does not depend on the values; every row still
//     sits at its own address). Types that need an importance matrix (IQ1_S) get a uniform one.
//   - ggml runs either on plain CPU buffers ("ggml.<type>"), or with W in each of the CPU backend's
//     extra buffer types that accepts this mul_mat (AMX, CPU_REPACK: ggml repacks W when it is
//     uploaded; "ggml.<type>.<buft>"), as llama.cpp places weights when it can.
//   - Buffers of 2 MiB and more get MADV_HUGEPAGE before first touch, like tessel's harness buffers
//     (--hugepages 0: off).
//   - Before every timed call, outside the timed window, the caches are flushed exactly as tessel's
//     CPU backend does (read a scratch buffer of min(2 LLC, 64 MiB), then clflush every line of W,
//     X and Y). ggml's OpenMP workers are not put to sleep by this: they spin for KMP_BLOCKTIME
//     (libomp, 200 ms) after each call, and tessel's harness keeps its pool spinning across the flush
//     too (keep_warm; not with TESSEL_CPU_WARM_POOL=0, nor while the pool's shared-core detector has
//     turned it cold). Warm-up 0.02 s, then repetitions until the IQR is under 3% of the median (after
//     at least 5 repetitions and 0.2 s of timed work) or --max-seconds runs out; the median is reported.
//   - The output is checked once per problem against an f64 product of X with ggml's own dequantized
//     W (65 rows of Y, up to 8 columns): relative L2 under 5% (X's q8 rounding costs ~1%) or the
//     row is FAILED.
// GB/s counts W's stored bytes plus X and Y in f32 (tessel's qgemm spec counts X, W, scales and Y).
//
// Usage (see scripts/ggml-compare):
//   ggml_matmul [--threads 2] [--types q2_k,q4_0,...] [--shapes 1x4096x4096,...] [--max-seconds 3]
//               [--modes plain,extra] [--skip-bufts AMX] [--hugepages 1] [--json FILE] [--probe FILE]
//               [--command TEXT]
// A shape is NxMxK: n activation rows (tessel's m), m_out output features (tessel's n), k.
#include "ggml-alloc.h"
#include "ggml-backend.h"
#include "ggml-cpu.h"
#include "ggml.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

namespace {

struct Shape {
  int64_t n, m_out, k;
};

struct Row {
  std::string problem, impl, status, reason, repro;
  double median_s = 0, iqr_s = 0, gbps = 0, tflops = 0, pct = 0;
  int n = 0;
  std::string bound;
};

struct Options {
  int threads = 2;
  std::vector<std::string> types = {"q1_0", "iq1_s", "tq1_0", "tq2_0", "q2_k", "q3_k", "q4_0", "q4_k", "q8_0"};
  std::vector<Shape> shapes = {{1, 4096, 4096}, {8, 4096, 4096}, {512, 4096, 4096},
                               {1, 4096, 14336}, {8, 4096, 14336}, {512, 4096, 14336}};
  double max_seconds = 3.0;
  bool plain = true, extra = true;
  bool hugepages = true;
  std::string json, probe, command;
  std::vector<std::string> skip_bufts;
};

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, sep))
    if (!item.empty()) out.push_back(item);
  return out;
}

[[noreturn]] void die(const std::string& msg) {
  std::fprintf(stderr, "ggml_matmul: %s\n", msg.c_str());
  std::exit(2);
}

ggml_type type_by_name(const std::string& name) {
  for (int t = 0; t < GGML_TYPE_COUNT; ++t) {
    const char* n = ggml_type_name(static_cast<ggml_type>(t));
    if (!n) continue;
    std::string lower = n;
    for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (lower == name) return static_cast<ggml_type>(t);
  }
  die("unknown ggml type " + name);
}

std::string lower_name(ggml_type t) {
  std::string s = ggml_type_name(t);
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

constexpr size_t kHugePage = size_t{2} << 20;
bool g_hugepages = true;

// MADV_HUGEPAGE on the 2 MiB-aligned interior of a fresh (untouched) buffer.
void advise_huge(void* p, size_t bytes) {
  if (!g_hugepages || bytes < kHugePage) return;
  auto b = reinterpret_cast<uintptr_t>(p);
  uintptr_t lo = (b + kHugePage - 1) & ~(kHugePage - 1);
  uintptr_t hi = (b + bytes) & ~(kHugePage - 1);
  if (hi > lo) madvise(reinterpret_cast<void*>(lo), hi - lo, MADV_HUGEPAGE);
}

// Same two steps as tessel's CPU backend (src/runtime/cpu_backend.cpp).
struct Flusher {
  std::vector<unsigned char> scratch;
  volatile unsigned char sink = 0;
  Flusher() {
    size_t llc = 0;
    long v = sysconf(_SC_LEVEL3_CACHE_SIZE);
    if (v > 0) llc = static_cast<size_t>(v);
    scratch.assign(std::min<size_t>(std::max<size_t>(2 * llc, size_t{8} << 20), size_t{64} << 20), 1);
  }
  void flush(const std::vector<const ggml_tensor*>& live) {
    // Read only, as tessel's since session 27: dirty scratch lines would be written back during the
    // timed call.
    unsigned char acc = 0;
    for (size_t i = 0; i < scratch.size(); i += 64) acc = static_cast<unsigned char>(acc ^ scratch[i]);
    sink = acc;
    for (const ggml_tensor* t : live) {
      const auto* p = static_cast<const char*>(t->data);
      const size_t bytes = ggml_backend_buffer_get_alloc_size(t->buffer, const_cast<ggml_tensor*>(t));
      for (size_t off = 0; off < bytes; off += 64) __builtin_ia32_clflush(p + off);
    }
    __builtin_ia32_mfence();
  }
};

double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

double quantile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  const double pos = q * double(v.size() - 1);
  const size_t i = static_cast<size_t>(pos);
  const double f = pos - double(i);
  return i + 1 < v.size() ? v[i] * (1 - f) + v[i + 1] * f : v[i];
}

// Quantized weights for one (type, k): 64 distinct rows, repeated to m_out rows.
std::vector<uint8_t> make_weights(ggml_type type, int64_t m_out, int64_t k, std::vector<float>& deq_rows) {
  constexpr int64_t kDistinct = 64;
  std::mt19937 gen(2026);
  std::normal_distribution<float> nd(0.f, 1.f);
  std::vector<float> src(size_t(kDistinct * k));
  for (auto& x : src) x = nd(gen);
  std::vector<float> imatrix;
  if (ggml_quantize_requires_imatrix(type)) imatrix.assign(size_t(k), 1.0f);
  const size_t row_bytes = ggml_row_size(type, k);
  std::vector<uint8_t> distinct(row_bytes * kDistinct);
  const size_t got = ggml_quantize_chunk(type, src.data(), distinct.data(), 0, kDistinct, k,
                                         imatrix.empty() ? nullptr : imatrix.data());
  if (got != distinct.size()) die("ggml_quantize_chunk wrote an unexpected size");
  deq_rows.assign(size_t(kDistinct * k), 0.f);
  const auto* traits = ggml_get_type_traits(type);
  for (int64_t r = 0; r < kDistinct; ++r)
    traits->to_float(distinct.data() + r * row_bytes, deq_rows.data() + r * k, k);
  std::vector<uint8_t> w(row_bytes * size_t(m_out));
  for (int64_t r = 0; r < m_out; ++r)
    std::memcpy(w.data() + r * row_bytes, distinct.data() + (r % kDistinct) * row_bytes, row_bytes);
  return w;
}

struct Case {
  ggml_context* wctx = nullptr;
  ggml_context* gctx = nullptr;
  ggml_backend_buffer_t wbuf = nullptr, gbuf = nullptr;
  ggml_tensor *W = nullptr, *X = nullptr, *Y = nullptr;
  ggml_cgraph* gf = nullptr;
  ~Case() {
    if (gbuf) ggml_backend_buffer_free(gbuf);
    if (wbuf) ggml_backend_buffer_free(wbuf);
    if (gctx) ggml_free(gctx);
    if (wctx) ggml_free(wctx);
  }
};

// Returns an empty string on success, else why this buffer type cannot run the problem.
std::string setup(Case& c, ggml_backend_t backend, ggml_backend_dev_t dev, ggml_backend_buffer_type_t wbuft,
                  ggml_type type, const Shape& s, const std::vector<uint8_t>& wbytes, const std::vector<float>& x) {
  ggml_init_params wp{ggml_tensor_overhead() * 4, nullptr, true};
  c.wctx = ggml_init(wp);
  c.W = ggml_new_tensor_2d(c.wctx, type, s.k, s.m_out);
  const size_t wsize = ggml_backend_buft_get_alloc_size(wbuft, c.W);
  c.wbuf = ggml_backend_buft_alloc_buffer(wbuft, wsize + 4096);
  if (!c.wbuf) return "buffer allocation failed";
  advise_huge(ggml_backend_buffer_get_base(c.wbuf), ggml_backend_buffer_get_size(c.wbuf));
  ggml_backend_buffer_set_usage(c.wbuf, GGML_BACKEND_BUFFER_USAGE_WEIGHTS);
  ggml_tallocr ta = ggml_tallocr_new(c.wbuf);
  if (ggml_tallocr_alloc(&ta, c.W) != GGML_STATUS_SUCCESS) return "tensor allocation failed";

  const size_t gmem = ggml_tensor_overhead() * 8 + ggml_graph_overhead();
  ggml_init_params gp{gmem, nullptr, true};
  c.gctx = ggml_init(gp);
  c.X = ggml_new_tensor_2d(c.gctx, GGML_TYPE_F32, s.k, s.n);
  c.Y = ggml_mul_mat(c.gctx, c.W, c.X);
  c.gf = ggml_new_graph(c.gctx);
  ggml_build_forward_expand(c.gf, c.Y);
  if (!ggml_backend_dev_supports_op(dev, c.Y)) return "the buffer type does not take this mul_mat";
  ggml_backend_buffer_type_t cpu_buft = ggml_backend_cpu_buffer_type();
  const size_t xs = ggml_backend_buft_get_alloc_size(cpu_buft, c.X), ys = ggml_backend_buft_get_alloc_size(cpu_buft, c.Y);
  c.gbuf = ggml_backend_buft_alloc_buffer(cpu_buft, xs + ys + 8192);
  if (!c.gbuf) return "buffer allocation failed";
  advise_huge(ggml_backend_buffer_get_base(c.gbuf), ggml_backend_buffer_get_size(c.gbuf));
  ggml_tallocr tg = ggml_tallocr_new(c.gbuf);
  if (ggml_tallocr_alloc(&tg, c.X) != GGML_STATUS_SUCCESS || ggml_tallocr_alloc(&tg, c.Y) != GGML_STATUS_SUCCESS)
    return "tensor allocation failed";
  // Uploading W into an extra buffer type converts it to that type's layout (repack, AMX).
  ggml_backend_tensor_set(c.W, wbytes.data(), 0, wbytes.size());
  ggml_backend_tensor_set(c.X, x.data(), 0, x.size() * sizeof(float));
  (void)backend;
  return {};
}

// Relative L2 error of Y's first 64 rows and its last row (the first 8 columns) against f64
// products with the dequantized weights.
double check(const Case& c, const Shape& s, const std::vector<float>& x, const std::vector<float>& deq_rows) {
  std::vector<float> y(size_t(s.n * s.m_out));
  ggml_backend_tensor_get(c.Y, y.data(), 0, y.size() * sizeof(float));
  std::vector<int64_t> rows;
  for (int64_t r = 0; r < std::min<int64_t>(64, s.m_out); ++r) rows.push_back(r);
  rows.push_back(s.m_out - 1);
  double err = 0, ref = 0;
  for (int64_t col = 0; col < std::min<int64_t>(s.n, 8); ++col) {
    for (int64_t r : rows) {
      const float* w = deq_rows.data() + (r % 64) * s.k;
      const float* xc = x.data() + col * s.k;
      double acc = 0;
      for (int64_t i = 0; i < s.k; ++i) acc += double(w[i]) * double(xc[i]);
      const double got = y[size_t(col * s.m_out + r)];
      if (!std::isfinite(got)) return INFINITY;
      err += (got - acc) * (got - acc);
      ref += acc * acc;
    }
  }
  return std::sqrt(err / std::max(ref, 1e-300));
}

std::string json_str(const std::string& s) {
  std::string o = "\"";
  for (char ch : s) {
    if (ch == '"' || ch == '\\') o += '\\', o += ch;
    else if (static_cast<unsigned char>(ch) < 0x20) o += ' ';
    else o += ch;
  }
  return o + "\"";
}

std::string read_file(const std::string& path) {
  std::ifstream f(path);
  if (!f) return {};
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// A number from a flat key in the probe JSON ("mem_gbps": 24.69...), 0 when absent.
double probe_number(const std::string& probe, const std::string& key) {
  const auto at = probe.find("\"" + key + "\"");
  if (at == std::string::npos) return 0;
  const auto colon = probe.find(':', at);
  return colon == std::string::npos ? 0 : std::atof(probe.c_str() + colon + 1);
}

std::string shell_out(const char* cmd) {
  std::string out;
  if (FILE* p = popen(cmd, "r")) {
    char buf[256];
    while (fgets(buf, sizeof buf, p)) out += buf;
    pclose(p);
  }
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  std::string argline;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) die("missing value after " + a);
      return argv[++i];
    };
    if (a == "--threads") o.threads = std::atoi(next().c_str());
    else if (a == "--types") o.types = split(next(), ',');
    else if (a == "--shapes") {
      o.shapes.clear();
      for (const auto& sh : split(next(), ',')) {
        long long n, m, k;
        if (std::sscanf(sh.c_str(), "%lldx%lldx%lld", &n, &m, &k) != 3) die("bad shape " + sh + " (want NxMxK)");
        o.shapes.push_back({n, m, k});
      }
    } else if (a == "--max-seconds") o.max_seconds = std::atof(next().c_str());
    else if (a == "--modes") {
      o.plain = o.extra = false;
      for (const auto& m : split(next(), ',')) {
        if (m == "plain") o.plain = true;
        else if (m == "extra") o.extra = true;
        else die("bad mode " + m);
      }
    } else if (a == "--hugepages") o.hugepages = std::atoi(next().c_str()) != 0;
    else if (a == "--skip-bufts") o.skip_bufts = split(next(), ',');
    else if (a == "--json") o.json = next();
    else if (a == "--probe") o.probe = next();
    else if (a == "--command") o.command = next();
    else if (a == "-h" || a == "--help") {
      std::printf("see the header of bench/engines/ggml_matmul.cpp\n");
      return 0;
    } else die("unknown option " + a);
    argline += " " + a;
  }
  g_hugepages = o.hugepages;
  if (o.command.empty()) {
    o.command = "ggml_matmul";
    for (int i = 1; i < argc; ++i) o.command += std::string(" ") + argv[i];
  }
  if (o.probe.empty()) {
    char host[256] = {};
    gethostname(host, sizeof host - 1);
    const char* home = std::getenv("HOME");
    o.probe = std::string(home ? home : ".") + "/.cache/tessel/probe-" + host + ".json";
  }
  const std::string probe = read_file(o.probe);
  const double mem_gbps = probe_number(probe, "mem_gbps"), fma_gflops = probe_number(probe, "fma_gflops");

  ggml_cpu_init();
  ggml_backend_t backend = ggml_backend_cpu_init();
  ggml_backend_cpu_set_n_threads(backend, o.threads);
  ggml_backend_dev_t dev = ggml_backend_get_device(backend);
  std::vector<ggml_backend_buffer_type_t> bufts;
  if (o.plain) bufts.push_back(ggml_backend_cpu_buffer_type());
  if (o.extra) {
    auto* reg = ggml_backend_dev_backend_reg(dev);
    auto get_extra = reinterpret_cast<ggml_backend_dev_get_extra_bufts_t>(
        ggml_backend_reg_get_proc_address(reg, "ggml_backend_dev_get_extra_bufts"));
    if (get_extra)
      for (auto* b = get_extra(dev); b && *b; ++b)
        if (std::find(o.skip_bufts.begin(), o.skip_bufts.end(), ggml_backend_buft_name(*b)) == o.skip_bufts.end())
          bufts.push_back(*b);
  }
  std::printf("ggml_matmul: %d threads, buffer types:", o.threads);
  for (auto* b : bufts) std::printf(" %s", ggml_backend_buft_name(b));
  std::printf("; huge pages %s; probe %.1f GB/s\n", o.hugepages ? "on" : "off", mem_gbps);
  std::printf("%-42s %-22s %10s %7s %8s %8s %6s  %s\n", "problem", "impl", "median", "IQR%", "GB/s", "%mem", "n", "status");

  Flusher flusher;
  std::vector<Row> rows;
  std::mt19937 gen(7);
  std::normal_distribution<float> nd(0.f, 1.f);
  for (const auto& tname : o.types) {
    const ggml_type type = type_by_name(tname);
    int64_t last_k = -1, last_m = -1;
    std::vector<uint8_t> wbytes;
    std::vector<float> deq;
    for (const Shape& s : o.shapes) {
      if (s.k % ggml_blck_size(type) != 0) {
        std::printf("skip %s k=%lld: not a multiple of the block size %lld\n", tname.c_str(), (long long)s.k,
                    (long long)ggml_blck_size(type));
        continue;
      }
      if (s.k != last_k || s.m_out != last_m) {
        wbytes = make_weights(type, s.m_out, s.k, deq);
        last_k = s.k, last_m = s.m_out;
      }
      std::vector<float> x(size_t(s.n * s.k));
      for (auto& v : x) v = nd(gen);
      char prob[160];
      std::snprintf(prob, sizeof prob, "ggml_mul_mat m=%lld n=%lld k=%lld type=%s", (long long)s.n,
                    (long long)s.m_out, (long long)s.k, lower_name(type).c_str());
      for (auto* buft : bufts) {
        Case c;
        Row row;
        row.problem = prob;
        row.impl = "ggml." + lower_name(type);
        const bool is_plain = buft == ggml_backend_cpu_buffer_type();
        if (!is_plain) row.impl += std::string(".") + ggml_backend_buft_name(buft);
        char repro[400];
        std::snprintf(repro, sizeof repro, "scripts/ggml-compare -- --types %s --shapes %lldx%lldx%lld --modes %s --threads %d",
                      lower_name(type).c_str(), (long long)s.n, (long long)s.m_out, (long long)s.k,
                      is_plain ? "plain" : "extra", o.threads);
        row.repro = repro;
        const std::string why = setup(c, backend, dev, buft, type, s, wbytes, x);
        if (!why.empty()) {
          if (!is_plain) continue;  // an extra buffer type that does not take this type: no row
          row.status = "UNSUPPORTED";
          row.reason = why;
          rows.push_back(row);
          std::printf("%-42s %-22s %s\n", prob, row.impl.c_str(), why.c_str());
          continue;
        }
        // Correctness once, then warm-up by time.
        if (ggml_backend_graph_compute(backend, c.gf) != GGML_STATUS_SUCCESS) die("graph compute failed");
        const double rel = check(c, s, x, deq);
        const double t_warm = now_s();
        while (now_s() - t_warm < 0.02) ggml_backend_graph_compute(backend, c.gf);
        const std::vector<const ggml_tensor*> live = {c.W, c.X, c.Y};
        std::vector<double> times;
        double timed = 0;
        const double t_begin = now_s();
        while (true) {
          flusher.flush(live);
          const double t0 = now_s();
          ggml_backend_graph_compute(backend, c.gf);
          const double t = now_s() - t0;
          times.push_back(t);
          timed += t;
          const int n = static_cast<int>(times.size());
          if (n >= 100) break;
          if (now_s() - t_begin > o.max_seconds && n >= 3) break;
          if (n >= 5 && timed >= 0.2) {
            const double med = quantile(times, 0.5), iqr = quantile(times, 0.75) - quantile(times, 0.25);
            if (iqr < 0.03 * med) break;
          }
        }
        row.n = static_cast<int>(times.size());
        row.median_s = quantile(times, 0.5);
        row.iqr_s = quantile(times, 0.75) - quantile(times, 0.25);
        const double bytes = double(ggml_row_size(type, s.k)) * double(s.m_out) + 4.0 * double(s.n * s.k) + 4.0 * double(s.n * s.m_out);
        const double flops = 2.0 * double(s.n) * double(s.m_out) * double(s.k);
        row.gbps = bytes / row.median_s / 1e9;
        row.tflops = flops / row.median_s / 1e12;
        const double mem_pct = mem_gbps > 0 ? 100 * row.gbps / mem_gbps : 0;
        const double cmp_pct = fma_gflops > 0 ? 100 * row.tflops * 1e3 / fma_gflops : 0;
        row.pct = std::max(mem_pct, cmp_pct);
        row.bound = mem_pct >= cmp_pct ? "memory" : "compute";
        row.status = rel < 0.05 ? "PASSED" : "FAILED";
        if (rel >= 0.05) {
          char r[96];
          std::snprintf(r, sizeof r, "relative L2 error %.3g against the dequantized weights", rel);
          row.reason = r;
        }
        rows.push_back(row);
        std::printf("%-42s %-22s %8.3f ms %6.1f%% %8.2f %7.1f%% %6d  %s (rel_l2 %.4f)\n", prob, row.impl.c_str(),
                    row.median_s * 1e3, 100 * row.iqr_s / row.median_s, row.gbps, mem_pct, row.n,
                    row.status.c_str(), rel);
        std::fflush(stdout);
      }
    }
  }
  ggml_backend_free(backend);

  if (!o.json.empty()) {
    std::string commit = shell_out("git rev-parse HEAD 2>/dev/null");
    if (commit.empty()) commit = "unknown";
    else if (!shell_out("git status --porcelain --untracked-files=no 2>/dev/null").empty()) commit += "-dirty";
    char date[32];
    std::time_t t = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&t, &tm);
    std::strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", &tm);
    std::ofstream f(o.json);
    if (!f) die("cannot write " + o.json);
    f << "{\n  \"command\": " << json_str(o.command) << ",\n  \"commit\": " << json_str(commit)
      << ",\n  \"date\": " << json_str(date) << ",\n  \"kind\": \"bench\",\n  \"machine\": "
      << (probe.empty() ? std::string("null") : probe) << ",\n  \"rows\": [\n";
    for (size_t i = 0; i < rows.size(); ++i) {
      const Row& r = rows[i];
      char nums[512];
      std::snprintf(nums, sizeof nums,
                    "\"median_s\": %.9g, \"iqr_s\": %.9g, \"n\": %d, \"tflops\": %.9g, \"gbps\": %.9g, "
                    "\"pct_roofline\": %.9g, \"bound\": %s, \"suspect\": %s, \"speedup\": 0, \"baseline\": \"\"",
                    r.median_s, r.iqr_s, r.n, r.tflops, r.gbps, r.pct, json_str(r.bound).c_str(),
                    r.pct > 105 ? "true" : "false");
      f << "    {\"problem\": " << json_str(r.problem) << ", \"impl\": " << json_str(r.impl)
        << ", \"device\": \"cpu\", \"baseline_impl\": false, \"status\": " << json_str(r.status)
        << ", \"reason\": " << json_str(r.reason) << ", " << nums << ", \"repro\": " << json_str(r.repro) << "}"
        << (i + 1 < rows.size() ? ",\n" : "\n");
    }
    f << "  ],\n  \"tool\": \"ggml_matmul\"\n}\n";
    std::printf("ggml_matmul: wrote %s\n", o.json.c_str());
  }
  return 0;
}
