// CPU shim for CUDA kernels without shared memory or __syncthreads: compiles a .cu file with a plain
// C++ compiler (g++ -x c++) and runs a launch's grid as nested loops on the calling thread.
//
// Every (block, thread) pair runs to completion one after another, which is a valid schedule for
// kernels whose threads never wait for each other. blockIdx/threadIdx/gridDim/blockDim are
// thread-local loop variables, so separate host threads may emulate launches concurrently.
#ifndef LMCACHE_CUDA_CPU_SHIM_H
#define LMCACHE_CUDA_CPU_SHIM_H

#include <stddef.h>
#include <stdint.h>

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline __attribute__((always_inline))

struct uint3 {
    unsigned int x, y, z;
};

struct dim3 {
    unsigned int x, y, z;
    dim3(unsigned int x_ = 1, unsigned int y_ = 1, unsigned int z_ = 1) : x(x_), y(y_), z(z_) {}
};

// CUDA's vector types carry their natural alignment; so do these, so an unaligned wide access is as
// wrong here as on a GPU.
struct alignas(16) uint4 {
    unsigned int x, y, z, w;
};

struct alignas(8) uint2 {
    unsigned int x, y;
};

static thread_local uint3 blockIdx;
static thread_local uint3 threadIdx;
static thread_local dim3 gridDim;
static thread_local dim3 blockDim;

// Runs body() once per (block, thread) of the grid, with the index variables set as a GPU would.
template <typename Body>
static void cuda_cpu_launch(dim3 grid, dim3 block, Body body) {
    gridDim = grid;
    blockDim = block;
    for (unsigned int bz = 0; bz < grid.z; bz++) {
        for (unsigned int by = 0; by < grid.y; by++) {
            for (unsigned int bx = 0; bx < grid.x; bx++) {
                blockIdx = uint3{bx, by, bz};
                for (unsigned int tz = 0; tz < block.z; tz++) {
                    for (unsigned int ty = 0; ty < block.y; ty++) {
                        for (unsigned int tx = 0; tx < block.x; tx++) {
                            threadIdx = uint3{tx, ty, tz};
                            body();
                        }
                    }
                }
            }
        }
    }
}

#endif
