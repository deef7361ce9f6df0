#include <immintrin.h>
#include <sys/mman.h>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <thread>
#include <vector>
#include <algorithm>
// S streams per thread: each thread's half split into S contiguous parts read side by side, 64 B from each in turn.
template <int S> static unsigned long long rs(const char* src, size_t bytes) {
  const size_t part = bytes / S / 64 * 64; __m128i acc[4] = {}; 
  for (size_t o = 0; o < part; o += 64)
    for (int s = 0; s < S; ++s) { const __m128i* q = (const __m128i*)(src + s * part + o);
      for (int j=0;j<4;++j) acc[j]=_mm_add_epi64(acc[j],_mm_load_si128(q+j)); }
  __m128i t=_mm_add_epi64(_mm_add_epi64(acc[0],acc[1]),_mm_add_epi64(acc[2],acc[3])); unsigned long long o[2]; _mm_storeu_si128((__m128i*)o,t); return o[0]+o[1];
}
template <int S> void run(char* p, size_t B, int th) {
  std::vector<double> ts; unsigned long long sink=0;
  for (int rep=0; rep<7; ++rep) {
    auto t0=std::chrono::steady_clock::now();
    std::vector<std::thread> v; std::vector<unsigned long long> r(th);
    for (int t=0;t<th;++t) v.emplace_back([&,t]{ r[t]=rs<S>(p+B/th*t,B/th); });
    for (auto& x:v) x.join();
    auto t1=std::chrono::steady_clock::now(); for (auto x:r) sink+=x;
    ts.push_back(std::chrono::duration<double>(t1-t0).count());
  }
  std::sort(ts.begin(),ts.end()); printf("threads=%d streams/thread=%d read %.1f GB/s (%llu)\n", th, S, B/ts[3]/1e9, sink&1);
}
int main(){
  size_t B = 512ull<<20; char* p=(char*)mmap(nullptr,B,PROT_READ|PROT_WRITE,MAP_PRIVATE|MAP_ANONYMOUS,-1,0); madvise(p,B,MADV_HUGEPAGE); memset(p,1,B);
  for (int k=0;k<2;++k){ run<1>(p,B,2); run<2>(p,B,2); run<4>(p,B,2); run<1>(p,B,1); run<2>(p,B,1);}
}
