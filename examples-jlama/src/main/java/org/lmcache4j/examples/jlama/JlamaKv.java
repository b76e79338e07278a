package org.lmcache4j.examples.jlama;

import com.github.tjake.jlama.safetensors.Config;
import com.github.tjake.jlama.safetensors.DType;
import com.github.tjake.jlama.tensor.AbstractTensor;
import com.github.tjake.jlama.tensor.KvBufferCache;

import java.lang.foreign.MemorySegment;
import org.lmcache4j.api.HostKvMemory;
import org.lmcache4j.api.KvDtype;
import org.lmcache4j.api.KvLayout;

/**
 * Jlama's KV cache as the connector sees it, with no staging copy.
 *
 * <p>A Jlama {@code KvBuffer} keeps its KV in pages allocated on first use, each holding
 * {@code [layersPerPage][K|V][positionsPerPage][kvHeads * headDim]} for a run of positions; the row of a
 * position is written after RoPE. So, per layer and plane, positions {@code [b * positionsPerPage, (b + 1) *
 * positionsPerPage)} are one contiguous run of rows in page {@code b}: exactly a paged cache whose blocks are
 * separate allocations ({@link HostKvMemory#blocks}), with slot = position and block size = positions per page.
 */
public final class JlamaKv {

    private JlamaKv() {
    }

    /** The connector layout of a model's KV: its layers, KV heads and head size, in the working dtype. */
    public static KvLayout layoutOf(Config c, DType workingDType) {
        if (c.dctx().numberOfLayers != c.numberOfLayers || c.dctx().kvSegmentLength != c.kvLength) {
            throw new IllegalArgumentException("Jlama distributed context: layers " + c.dctx().layerStart + ".."
                    + c.dctx().layerEnd + ", KV columns " + c.dctx().kvSegmentStart + ".." + c.dctx().kvSegmentEnd
                    + " (expected: the whole model in this process; a shard's KV needs its own connector layout)");
        }
        return KvLayout.standard(c.numberOfLayers, c.numberOfKeyValueHeads, c.headSize, dtypeOf(workingDType));
    }

    /**
     * The KV of positions {@code [0, positions)} of {@code kv} as host memory: the pages holding them are
     * allocated now if Jlama has not yet (a retrieve fills them before prefill would).
     */
    static HostKvMemory describe(KvBufferCache.KvBuffer kv, KvLayout layout, int positions) {
        if (positions <= 0) {
            throw new IllegalArgumentException("positions: " + positions + " (expected: > 0)");
        }
        int layers = layout.numLayers();
        MemorySegment[][][] pages = new MemorySegment[layers][2][]; // [layer][plane][block]
        int blockSize = kv.getKeyTensorsUptoPosition(0, 0)[0].shape().first(); // positions per page
        int blocks = Math.ceilDiv(positions, blockSize);
        for (int layer = 0; layer < layers; layer++) {
            for (int block = 0; block < blocks; block++) {
                // Page by page, as Jlama's prefill allocates them: getKeyTensorsUptoPosition would name every page
                // it creates after the last one, and file-backed pages (a model's working directory) of one name
                // share one file.
                kv.getKeyTensorForPosition(layer, block * blockSize);
            }
            pages[layer][0] = segments(kv.getKeyTensorsUptoPosition(layer, positions - 1));
            pages[layer][1] = segments(kv.getValTensorsUptoPosition(layer, positions - 1));
        }
        return HostKvMemory.blocks(layout, blocks, blockSize, (layer, plane, block) -> pages[layer][plane][block]);
    }

    private static MemorySegment[] segments(AbstractTensor[] pageSlices) {
        MemorySegment[] out = new MemorySegment[pageSlices.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = pageSlices[i].getMemorySegment();
        }
        return out;
    }

    private static KvDtype dtypeOf(DType d) {
        return switch (d) {
            case F32 -> KvDtype.FP32;
            case BF16 -> KvDtype.BF16;
            case F16 -> KvDtype.FP16;
            default -> throw new IllegalArgumentException("Jlama working dtype: " + d
                    + " (expected: F32, BF16 or F16, the types Jlama keeps KV in)");
        };
    }
}
