package org.lmcache4j.examples.bench;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.lmcache4j.api.HostKvMemory;
import org.lmcache4j.api.KvDtype;
import org.lmcache4j.api.KvLayout;
import org.lmcache4j.examples.engine.Generation;
import org.lmcache4j.examples.engine.LlamaEngine;

/**
 * The reference engine's own KV as chunks for the codec benchmark: a prompt of random tokens prefilled,
 * its K and V rows read back and stored as bf16 (round to nearest even), the dtype engines keep KV in,
 * in chunk buffer order {@code [plane][layer][token][tokenDim]}.
 */
final class EngineKvChunks {

    private EngineKvChunks() {
    }

    /** The bf16 layout of the engine's KV shape. */
    static KvLayout bf16Layout(LlamaEngine engine) {
        KvLayout fp32 = engine.kvLayout();
        return KvLayout.standard(fp32.numLayers(), fp32.numKvHeads(), fp32.headDim(), KvDtype.BF16);
    }

    /** {@code chunks} chunks of {@code chunkTokens} tokens of the engine's KV for one seeded prompt, in {@code arena}. */
    static List<MemorySegment> bf16(LlamaEngine engine, int chunks, int chunkTokens, Arena arena) {
        int tokens = chunks * chunkTokens;
        int[] prompt = new SplittableRandom(42).ints(tokens + 1, 0, engine.shape().vocabSize()).toArray();
        KvLayout fp32 = engine.kvLayout();
        KvLayout bf16 = bf16Layout(engine);
        List<MemorySegment> out = new ArrayList<>();
        try (Generation g = engine.generate(prompt, 1)) {
            int[] slots = g.sequence().slots(tokens);
            HostKvMemory kv = engine.memory().host();
            int dim = fp32.tokenDim();
            for (int c = 0; c < chunks; c++) {
                MemorySegment chunk = arena.allocate(bf16.chunkBytes(chunkTokens), 64);
                long at = 0;
                for (int plane = 0; plane < fp32.planes(); plane++) {
                    for (int layer = 0; layer < fp32.numLayers(); layer++) {
                        MemorySegment rows = kv.plane(layer, plane);
                        for (int t = 0; t < chunkTokens; t++) {
                            long row = (long) slots[c * chunkTokens + t] * fp32.rowBytes();
                            for (int e = 0; e < dim; e++) {
                                float v = rows.get(ValueLayout.JAVA_FLOAT_UNALIGNED, row + 4L * e);
                                chunk.set(ValueLayout.JAVA_SHORT_UNALIGNED, at, bf16(v));
                                at += 2;
                            }
                        }
                    }
                }
                out.add(chunk);
            }
        }
        return out;
    }

    /** {@code v} as bf16: the float's upper half, rounded to nearest even; NaN stays a quiet NaN. */
    static short bf16(float v) {
        int bits = Float.floatToRawIntBits(v);
        if (Float.isNaN(v)) {
            return (short) ((bits >>> 16) | 0x0040);
        }
        int rounded = bits + 0x7FFF + ((bits >>> 16) & 1);
        return (short) (rounded >>> 16);
    }
}
