// Session 10: how many thread-block clusters of each size the H200 runs at once for a CTA shaped like
// cuda.wgmma's (384 threads, about 200 KiB of shared memory, one CTA per SM), from
// cudaOccupancyMaxActiveClusters. Build: nvcc -std=c++20 -arch=sm_90a cluster_capacity.cu -o cluster_capacity
#include <cstdio>
#include <cuda_runtime.h>

__global__ void __launch_bounds__(384, 1) empty_kernel() {}

int main() {
  int sms = 0;
  cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, 0);
  for (int smem : {100 * 1024, 200 * 1024, 227 * 1024}) {
    cudaFuncSetAttribute(empty_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, smem);
    cudaFuncSetAttribute(empty_kernel, cudaFuncAttributeNonPortableClusterSizeAllowed, 1);
    for (int c = 1; c <= 16; ++c) {
      cudaLaunchConfig_t cfg{};
      cudaLaunchAttribute attr{};
      attr.id = cudaLaunchAttributeClusterDimension;
      attr.val.clusterDim.x = c;
      attr.val.clusterDim.y = 1;
      attr.val.clusterDim.z = 1;
      cfg.gridDim = dim3(c);
      cfg.blockDim = dim3(384);
      cfg.dynamicSmemBytes = smem;
      cfg.attrs = &attr;
      cfg.numAttrs = 1;
      int n = -1;
      cudaError_t e = cudaOccupancyMaxActiveClusters(&n, empty_kernel, &cfg);
      std::printf("sms %d smem %6d cluster %2d: max active clusters %3d (%3d CTAs) %s\n", sms, smem, c, n, n * c,
                  e == cudaSuccess ? "" : cudaGetErrorString(e));
      cudaGetLastError();
    }
  }
  return 0;
}
