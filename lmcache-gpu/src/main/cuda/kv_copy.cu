// KV gather/scatter kernels of lmcache4j: copy tokens between an engine's paged KV (device memory) and a
// chunk buffer laid out [K|V][layer][token][row] ([layer][token][row] for MLA).
//
// One launch copies every layer and both planes of a chunk: blockIdx.y selects (plane, layer), and a
// grid-stride loop over x walks the chunk's (token, vector) pairs, so consecutive threads touch
// consecutive bytes of both the chunk and the engine row. No shared memory and no __syncthreads: the
// same source compiles with g++ through cuda_cpu_shim.h, where the grid becomes loops (the CPU
// emulation the tests run). See lmcache-gpu/README.md for the index math.
//
// Regenerate the committed PTX with lmcache-gpu/scripts/build-kernels.sh after any change here.

#ifndef __CUDACC__
#include "cuda_cpu_shim.h"
#endif

#include <stdint.h>

// The kernels' one parameter, passed by value. Mirrored field by field by KvCopyArgs.java; the CPU
// emulation test checks sizeof and every offsetof against it.
struct KvCopyArgs {
    uint64_t layer_ptrs;         // address of uint64_t[num_layers]: base address of each layer's tensor
    uint64_t slots;              // address of int32_t[num_tokens]: engine slot of each token, < 0 = skip
    uint64_t chunk;              // address of the chunk buffer (device staging or mapped pinned host)
    int64_t chunk_plane_stride;  // bytes from a layer's K rows to its V rows in the chunk
    int64_t chunk_layer_stride;  // bytes from one layer's rows to the next layer's in the chunk
    int32_t num_layers;          // layers in this launch: gridDim.y == planes * num_layers
    int32_t num_tokens;          // tokens in the chunk (rows per plane and layer)
    int32_t planes;              // 2 (K and V) or 1 (MLA)
    int32_t format;              // KV_FORMAT_*
    int32_t num_blocks;          // blocks per layer in engine memory
    int32_t block_size;          // tokens per block
    int32_t row_bytes;           // bytes of one token in one plane and layer: kvHeads * headDim * dtype size
    int32_t vector_bytes;        // access width: 16, 8, 4 or 1; divides row_bytes, every pointer and stride
};

#define KV_FORMAT_VLLM 0         // per layer [2][num_blocks][block_size][row]
#define KV_FORMAT_FLASH_INFER 1  // per layer [num_blocks][2][block_size][row]
#define KV_FORMAT_MLA 2          // per layer [num_blocks][block_size][row]

// Row index, within one layer's tensor, of the token at `slot` in `plane`.
__device__ __forceinline__ int64_t engine_row(const KvCopyArgs& a, int32_t plane, int32_t slot) {
    if (a.format == KV_FORMAT_VLLM) {
        return (int64_t) plane * a.num_blocks * a.block_size + slot;
    }
    if (a.format == KV_FORMAT_FLASH_INFER) {
        int32_t block = slot / a.block_size;
        int32_t offset = slot - block * a.block_size;
        return ((int64_t) block * 2 + plane) * a.block_size + offset;
    }
    return slot; // MLA: one plane
}

// Copies the (plane, layer) of blockIdx.y in units of V. The host keeps num_tokens * row_bytes below
// 2^31, so the loop index and its division stay 32-bit.
template <typename V, bool GATHER>
__device__ __forceinline__ void copy_plane_layer(const KvCopyArgs& a) {
    const int32_t plane = (int32_t) blockIdx.y / a.num_layers;
    const int32_t layer = (int32_t) blockIdx.y - plane * a.num_layers;
    const uint32_t row_vectors = (uint32_t) a.row_bytes / (uint32_t) sizeof(V);
    const uint32_t total = (uint32_t) a.num_tokens * row_vectors;
    const int32_t* slots = (const int32_t*) a.slots;
    unsigned char* engine = (unsigned char*) ((const uint64_t*) a.layer_ptrs)[layer];
    unsigned char* chunk = (unsigned char*) a.chunk + plane * a.chunk_plane_stride + layer * a.chunk_layer_stride;
    for (uint32_t i = blockIdx.x * blockDim.x + threadIdx.x; i < total; i += gridDim.x * blockDim.x) {
        const uint32_t token = i / row_vectors;
        const uint32_t vector = i - token * row_vectors;
        const int32_t slot = slots[token];
        if (slot < 0) {
            continue;
        }
        V* engine_v = (V*) (engine + engine_row(a, plane, slot) * a.row_bytes) + vector;
        V* chunk_v = (V*) (chunk + (int64_t) token * a.row_bytes) + vector;
        if (GATHER) {
            *chunk_v = *engine_v;
        } else {
            *engine_v = *chunk_v;
        }
    }
}

template <bool GATHER>
__device__ __forceinline__ void copy_kv(const KvCopyArgs& a) {
    switch (a.vector_bytes) {
        case 16: copy_plane_layer<uint4, GATHER>(a); break;
        case 8: copy_plane_layer<uint2, GATHER>(a); break;
        case 4: copy_plane_layer<unsigned int, GATHER>(a); break;
        default: copy_plane_layer<unsigned char, GATHER>(a); break;
    }
}

// Engine paged KV -> chunk buffer.
extern "C" __global__ void lmc_kv_gather(const KvCopyArgs a) {
    copy_kv<true>(a);
}

// Chunk buffer -> engine paged KV.
extern "C" __global__ void lmc_kv_scatter(const KvCopyArgs a) {
    copy_kv<false>(a);
}

#ifndef __CUDACC__
// Host-side entry points of the CPU emulation: run a kernel's whole grid as loops.
extern "C" void lmc_kv_gather_cpu(const KvCopyArgs* a, uint32_t grid_x, uint32_t grid_y, uint32_t block_x) {
    cuda_cpu_launch(dim3(grid_x, grid_y), dim3(block_x), [a] { lmc_kv_gather(*a); });
}

extern "C" void lmc_kv_scatter_cpu(const KvCopyArgs* a, uint32_t grid_x, uint32_t grid_y, uint32_t block_x) {
    cuda_cpu_launch(dim3(grid_x, grid_y), dim3(block_x), [a] { lmc_kv_scatter(*a); });
}

// sizeof(KvCopyArgs) then the offset of each field in declaration order, for the ABI check.
extern "C" int32_t lmc_kv_copy_args_layout(int64_t* out, int32_t capacity) {
    const int64_t layout[] = {
        (int64_t) sizeof(KvCopyArgs),
        (int64_t) offsetof(KvCopyArgs, layer_ptrs), (int64_t) offsetof(KvCopyArgs, slots),
        (int64_t) offsetof(KvCopyArgs, chunk), (int64_t) offsetof(KvCopyArgs, chunk_plane_stride),
        (int64_t) offsetof(KvCopyArgs, chunk_layer_stride), (int64_t) offsetof(KvCopyArgs, num_layers),
        (int64_t) offsetof(KvCopyArgs, num_tokens), (int64_t) offsetof(KvCopyArgs, planes),
        (int64_t) offsetof(KvCopyArgs, format), (int64_t) offsetof(KvCopyArgs, num_blocks),
        (int64_t) offsetof(KvCopyArgs, block_size), (int64_t) offsetof(KvCopyArgs, row_bytes),
        (int64_t) offsetof(KvCopyArgs, vector_bytes),
    };
    const int32_t n = (int32_t) (sizeof(layout) / sizeof(layout[0]));
    for (int32_t i = 0; i < n && i < capacity; i++) {
        out[i] = layout[i];
    }
    return n;
}
#endif
