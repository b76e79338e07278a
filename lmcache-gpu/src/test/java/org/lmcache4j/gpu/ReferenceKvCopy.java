package org.lmcache4j.gpu;

import org.lmcache4j.api.DeviceKvFormat;

/**
 * The reference the kernels are checked against: gather and scatter written straight from the layout
 * definitions, one byte row at a time, over Java arrays. Shares no code with the kernels or the engine.
 *
 * <p>Engine layer tensors: VLLM {@code [2][numBlocks][blockSize][row]}, FLASH_INFER
 * {@code [numBlocks][2][blockSize][row]}, MLA {@code [numBlocks][blockSize][row]}. Chunk:
 * {@code [plane][layer][token][row]}.
 */
final class ReferenceKvCopy {

    private ReferenceKvCopy() {
    }

    /** Byte offset, in one layer's tensor, of the row of {@code slot} in {@code plane}. */
    static long engineOffset(DeviceKvFormat format, int plane, int slot, int numBlocks, int blockSize, int rowBytes) {
        int block = slot / blockSize;
        int offset = slot % blockSize;
        long row = switch (format) {
            case VLLM -> ((long) plane * numBlocks + block) * blockSize + offset;
            case FLASH_INFER -> ((long) block * 2 + plane) * blockSize + offset;
            case MLA -> (long) block * blockSize + offset;
        };
        return row * rowBytes;
    }

    /** Copies tokens {@code [from, to)} out of {@code layers} into {@code chunk}; negative slots leave it alone. */
    static void gather(KvScenario s, byte[][] layers, int from, int to, byte[] chunk) {
        copy(s, layers, from, to, chunk, true);
    }

    /** Copies {@code chunk} (tokens {@code [from, to)}) into {@code layers}; negative slots are not written. */
    static void scatter(KvScenario s, byte[] chunk, byte[][] layers, int from, int to) {
        copy(s, layers, from, to, chunk, false);
    }

    private static void copy(KvScenario s, byte[][] layers, int from, int to, byte[] chunk, boolean gather) {
        int row = s.layout().rowBytes();
        int tokens = to - from;
        for (int plane = 0; plane < s.layout().planes(); plane++) {
            for (int layer = 0; layer < s.layout().numLayers(); layer++) {
                for (int t = from; t < to; t++) {
                    int slot = s.slotMapping()[t];
                    if (slot < 0) {
                        continue;
                    }
                    int engine = (int) engineOffset(s.format(), plane, slot, s.numBlocks(), s.blockSize(), row);
                    int inChunk = ((plane * s.layout().numLayers() + layer) * tokens + (t - from)) * row;
                    if (gather) {
                        System.arraycopy(layers[layer], engine, chunk, inChunk, row);
                    } else {
                        System.arraycopy(chunk, inChunk, layers[layer], engine, row);
                    }
                }
            }
        }
    }
}
