package org.lmcache4j.gpu;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.lmcache4j.api.DeviceKvFormat;
import org.lmcache4j.api.DeviceKvMemory;
import org.lmcache4j.api.KvDtype;
import org.lmcache4j.api.KvLayout;

/**
 * A randomized copy problem: an engine's paged device KV (format, layout, paging), a prompt's slot mapping
 * through a shuffled block table (the last block partly filled, some slots negative), its split into chunks
 * (the last one partial), and how far the layer tensors and chunk buffers sit from 16-byte alignment.
 *
 * @param layerMisalignment bytes past a 256-aligned address where each layer tensor starts
 * @param chunkMisalignment bytes past a 16-aligned address where each chunk buffer starts
 */
record KvScenario(long seed, DeviceKvFormat format, KvLayout layout, int numBlocks, int blockSize, int[] slotMapping,
                  int chunkTokens, int layerMisalignment, int chunkMisalignment) {

    private static final KvDtype[] BY_SIZE = {null, KvDtype.FP8_E4M3, KvDtype.BF16, null, KvDtype.FP32};

    /** A random problem; {@code aligned} makes rows and addresses 16-byte aligned (the wide path). */
    static KvScenario random(long seed, DeviceKvFormat format, boolean aligned) {
        SplittableRandom r = new SplittableRandom(seed);
        int dtypeBytes = new int[] {1, 2, 4}[r.nextInt(3)];
        int heads = format == DeviceKvFormat.MLA ? 1 : 1 + r.nextInt(3);
        int headDim = aligned ? 16 * (1 + r.nextInt(4)) : 1 + r.nextInt(40);
        int layers = 1 + r.nextInt(4);
        KvLayout layout = new KvLayout(layers, heads, headDim, BY_SIZE[dtypeBytes], format == DeviceKvFormat.MLA);
        int blockSize = new int[] {1, 2, 5, 16}[r.nextInt(4)];
        int chunkTokens = new int[] {8, 16, 32}[r.nextInt(3)];
        int tokens = 1 + r.nextInt(100);
        int usedBlocks = Math.ceilDiv(tokens, blockSize);
        int numBlocks = usedBlocks + r.nextInt(4);
        int[] misalign = {0, 1, 2, 3, 4, 6, 8, 12};
        return new KvScenario(seed, format, layout, numBlocks, blockSize,
                slotMapping(r, tokens, blockSize, numBlocks), chunkTokens,
                aligned ? 0 : misalign[r.nextInt(misalign.length)], aligned ? 0 : misalign[r.nextInt(misalign.length)]);
    }

    /** Slots through a shuffled block table; about one token in eight gets a negative slot. */
    private static int[] slotMapping(SplittableRandom r, int tokens, int blockSize, int numBlocks) {
        int[] table = new int[numBlocks];
        for (int i = 0; i < numBlocks; i++) {
            table[i] = i;
        }
        for (int i = numBlocks - 1; i > 0; i--) {
            int j = r.nextInt(i + 1);
            int t = table[i];
            table[i] = table[j];
            table[j] = t;
        }
        int[] slots = new int[tokens];
        for (int t = 0; t < tokens; t++) {
            slots[t] = r.nextInt(8) == 0 ? -1 - r.nextInt(5) : table[t / blockSize] * blockSize + t % blockSize;
        }
        return slots;
    }

    int tokens() {
        return slotMapping.length;
    }

    /** Bytes of one layer's tensor. */
    long layerBytes() {
        return (long) layout.planes() * numBlocks * blockSize * layout.rowBytes();
    }

    long chunkBytes(int tokens) {
        return layout.chunkBytes(tokens);
    }

    /** The prompt split into chunks of {@code chunkTokens}, the last one partial: {@code {from, to}} pairs. */
    List<int[]> chunkRanges() {
        List<int[]> ranges = new ArrayList<>();
        for (int from = 0; from < tokens(); from += chunkTokens) {
            ranges.add(new int[] {from, Math.min(tokens(), from + chunkTokens)});
        }
        return ranges;
    }

    DeviceKvMemory memory(long[] layerAddresses) {
        return new DeviceKvMemory(layout, format, 0, layerAddresses, numBlocks, blockSize);
    }

    /** Random bytes for every layer tensor. */
    byte[][] randomLayers(long salt) {
        SplittableRandom r = new SplittableRandom(seed * 31 + salt);
        byte[][] layers = new byte[layout.numLayers()][(int) layerBytes()];
        for (byte[] layer : layers) {
            r.nextBytes(layer);
        }
        return layers;
    }

    byte[] randomBytes(long size, long salt) {
        byte[] bytes = new byte[(int) size];
        new SplittableRandom(seed * 17 + salt).nextBytes(bytes);
        return bytes;
    }

    @Override
    public String toString() {
        return "seed " + seed + ": " + format + " " + layout.numLayers() + " layers x " + layout.numKvHeads() + " heads x "
                + layout.headDim() + " x " + layout.dtype().sizeBytes() + " B (row " + layout.rowBytes() + " B), " + numBlocks
                + " blocks of " + blockSize + ", " + tokens() + " tokens in chunks of " + chunkTokens + ", misaligned by "
                + layerMisalignment + "/" + chunkMisalignment;
    }
}
