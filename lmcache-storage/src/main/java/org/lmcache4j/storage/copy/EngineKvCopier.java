package org.lmcache4j.storage.copy;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import org.lmcache4j.api.DeviceKvMemory;
import org.lmcache4j.api.HostKvMemory;
import org.lmcache4j.api.spi.DeviceCopyEngine;

/**
 * Copies between one call's engine KV memory and chunk buffers: host-resident KV with {@link HostKvCopier},
 * device-resident KV with the {@link DeviceCopyEngine} that supports it.
 */
public interface EngineKvCopier {

    /** Slots of the engine memory. */
    int numSlots();

    /** Copies tokens {@code [from, to)} (slots all &gt;= 0) into {@code chunk}. */
    void gather(int[] slots, int from, int to, MemorySegment chunk);

    /**
     * Copies {@code chunk}, holding tokens {@code [from, to)}, into engine memory for the tokens at or after
     * {@code writeFrom}; tokens with negative slots are not written.
     */
    void scatter(MemorySegment chunk, int[] slots, int from, int to, int writeFrom);

    /**
     * {@link #gather} of {@code layer} only (K and V, or the latent), into that layer's place in {@code chunk}.
     *
     * @throws UnsupportedOperationException for device memory (its layerwise copies go through the device engine)
     */
    default void gatherLayer(int[] slots, int from, int to, MemorySegment chunk, int layer) {
        throw new UnsupportedOperationException("layer-by-layer copies of this engine memory: " + this);
    }

    /** {@link #scatter} of {@code layer} only; see {@link #gatherLayer}. */
    default void scatterLayer(MemorySegment chunk, int[] slots, int from, int to, int writeFrom, int layer) {
        throw new UnsupportedOperationException("layer-by-layer copies of this engine memory: " + this);
    }

    static EngineKvCopier host(HostKvMemory kv) {
        return host(kv, CopyLanes.inline());
    }

    /** Host KV, each chunk's copies shared out over {@code lanes}. */
    static EngineKvCopier host(HostKvMemory kv, CopyLanes lanes) {
        return new EngineKvCopier() {
            @Override
            public int numSlots() {
                return kv.numSlots();
            }

            @Override
            public void gather(int[] slots, int from, int to, MemorySegment chunk) {
                HostKvCopier.gather(kv, slots, from, to, chunk, lanes);
            }

            @Override
            public void scatter(MemorySegment chunk, int[] slots, int from, int to, int writeFrom) {
                HostKvCopier.scatter(chunk, kv, slots, from, to, writeFrom, lanes);
            }

            @Override
            public void gatherLayer(int[] slots, int from, int to, MemorySegment chunk, int layer) {
                HostKvCopier.gatherLayer(kv, slots, from, to, chunk, layer);
            }

            @Override
            public void scatterLayer(MemorySegment chunk, int[] slots, int from, int to, int writeFrom, int layer) {
                HostKvCopier.scatterLayer(chunk, kv, slots, from, to, writeFrom, layer);
            }
        };
    }

    static EngineKvCopier device(DeviceKvMemory kv, DeviceCopyEngine engine) {
        return new EngineKvCopier() {
            @Override
            public int numSlots() {
                return kv.numSlots();
            }

            @Override
            public void gather(int[] slots, int from, int to, MemorySegment chunk) {
                engine.gather(kv, slots, from, to, chunk);
            }

            @Override
            public void scatter(MemorySegment chunk, int[] slots, int from, int to, int writeFrom) {
                int[] written = slots;
                if (writeFrom > from) { // only the chunk that straddles the mask's end: the engine holds its head
                    written = slots.clone();
                    Arrays.fill(written, from, Math.min(to, writeFrom), -1);
                }
                engine.scatter(chunk, kv, written, from, to);
            }
        };
    }
}
