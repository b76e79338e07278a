package org.lmcache4j.gpu;

import org.lmcache4j.api.DeviceKvFormat;
import org.lmcache4j.api.DeviceKvMemory;
import org.lmcache4j.api.KvLayout;

/**
 * What the kernels need to know about one engine's device KV: its format, planes, layers, paging and row
 * size, and the alignment its layer addresses share. Makes the {@link KvCopyArgs} of each launch.
 *
 * @param layerAddressBits every layer address OR'ed together: its low bits bound the access width
 */
record KvShape(int format, int planes, int numLayers, int numBlocks, int blockSize, int rowBytes, long layerAddressBits) {

    static KvShape of(DeviceKvMemory kv) {
        KvLayout layout = kv.layout();
        long bits = 0;
        for (int layer = 0; layer < layout.numLayers(); layer++) {
            bits |= kv.layerAddress(layer);
        }
        return new KvShape(formatCode(kv.format()), layout.planes(), layout.numLayers(), kv.numBlocks(), kv.blockSize(),
                layout.rowBytes(), bits);
    }

    static int formatCode(DeviceKvFormat format) {
        return switch (format) {
            case VLLM -> KvCopyArgs.FORMAT_VLLM;
            case FLASH_INFER -> KvCopyArgs.FORMAT_FLASH_INFER;
            case MLA -> KvCopyArgs.FORMAT_MLA;
        };
    }

    /** Bytes of a chunk buffer of {@code tokens} tokens: {@code [plane][layer][token][row]}. */
    long chunkBytes(int tokens) {
        return (long) planes * numLayers * tokens * rowBytes;
    }

    /**
     * The widest access (16, 8, 4 or 1 bytes) that divides the row size, every layer address, and each of
     * {@code chunkAddressesAndStrides}.
     */
    int vectorBytes(long... chunkAddressesAndStrides) {
        long bits = rowBytes | layerAddressBits;
        for (long v : chunkAddressesAndStrides) {
            bits |= v;
        }
        for (int width = 16; width >= 4; width /= 2) {
            if ((bits & (width - 1)) == 0) {
                return width;
            }
        }
        return 1;
    }

    /** A launch over every layer of a whole chunk of {@code tokens} tokens at {@code chunk}. */
    KvCopyArgs wholeChunk(DevicePtr layerPointers, DevicePtr slots, DevicePtr chunk, int tokens) {
        long layerStride = (long) tokens * rowBytes;
        return layers(layerPointers, numLayers, slots, tokens, chunk, layerStride * numLayers, layerStride);
    }

    /**
     * A launch over one layer: {@code layerPointers} points at that layer's entry of the layer table; the
     * chunk's K rows start at {@code chunk}, its V rows {@code planeStride} bytes further.
     */
    KvCopyArgs oneLayer(DevicePtr layerPointers, DevicePtr slots, int tokens, DevicePtr chunk, long planeStride) {
        return layers(layerPointers, 1, slots, tokens, chunk, planeStride, (long) tokens * rowBytes);
    }

    private KvCopyArgs layers(DevicePtr layerPointers, int layers, DevicePtr slots, int tokens, DevicePtr chunk,
                              long planeStride, long layerStride) {
        int width = vectorBytes(chunk.address(), planeStride, layerStride);
        return new KvCopyArgs(layerPointers.address(), slots.address(), chunk.address(), planeStride, layerStride, layers,
                tokens, planes, format, numBlocks, blockSize, rowBytes, width);
    }
}
