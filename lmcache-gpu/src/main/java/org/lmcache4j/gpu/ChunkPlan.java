package org.lmcache4j.gpu;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.BiFunction;
import org.lmcache4j.api.DeviceKvMemory;
import org.lmcache4j.api.spi.ChunkCopy;

/**
 * A batch of chunk copies resolved against one device: the layer-address table and every chunk's slots in
 * one slot table, uploaded together on the lane's compute stream, and each chunk's mapped device address
 * when its buffer is registered host memory (zero-copy) instead of going through staging.
 *
 * @param chunks      the non-empty chunks, in call order
 * @param layerTable  device address of {@code uint64_t[numLayers]}: each layer's tensor
 * @param slotTable   device address of {@code int32_t[totalTokens]}: the chunks' slots, one after another
 * @param totalTokens tokens of all chunks
 */
record ChunkPlan(List<Chunk> chunks, DevicePtr layerTable, DevicePtr slotTable, int totalTokens) {

    /**
     * One chunk of the plan.
     *
     * @param host       its host buffer, exactly the chunk's bytes
     * @param slotOffset index of its first token in the slot table
     * @param mapped     the device's address of {@code host} when it is registered and zero-copy is on
     * @param skips      whether a token of it has a negative slot
     */
    record Chunk(MemorySegment host, int tokens, int slotOffset, Optional<DevicePtr> mapped, boolean skips) {
    }

    /**
     * Builds the plan and queues the table upload; the lane's context must be current and its turn held.
     *
     * @param mapper the mapped device address of a chunk buffer of the given size, if zero-copy applies
     */
    static ChunkPlan prepare(CopyLane lane, KvShape shape, DeviceKvMemory kv, int[] slotMapping, List<ChunkCopy> copies,
                             BiFunction<MemorySegment, Long, Optional<DevicePtr>> mapper) {
        int total = 0;
        for (ChunkCopy c : copies) {
            total = Math.addExact(total, c.tokens());
        }
        int layers = shape.numLayers();
        long slotTableOffset = (long) layers * Long.BYTES;
        DevicePtr base = lane.tables.ensure(slotTableOffset + (long) Math.max(1, total) * Integer.BYTES);
        List<Chunk> chunks = new ArrayList<>();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment tables = arena.allocate(slotTableOffset + (long) total * Integer.BYTES, Long.BYTES);
            for (int layer = 0; layer < layers; layer++) {
                tables.setAtIndex(JAVA_LONG, layer, kv.layerAddress(layer));
            }
            int offset = 0;
            for (ChunkCopy c : copies) {
                if (c.tokens() == 0) {
                    continue;
                }
                boolean skips = false;
                for (int t = c.from(); t < c.to(); t++) {
                    tables.set(JAVA_INT, slotTableOffset + (long) (offset + t - c.from()) * Integer.BYTES, slotMapping[t]);
                    skips |= slotMapping[t] < 0;
                }
                long bytes = shape.chunkBytes(c.tokens());
                MemorySegment host = c.chunk().asSlice(0, bytes);
                chunks.add(new Chunk(host, c.tokens(), offset, mapper.apply(host, bytes), skips));
                offset += c.tokens();
            }
            // From pageable memory the driver copies the source out before returning, so the arena may close.
            lane.api.copyToDevice(base, tables, lane.compute);
        }
        return new ChunkPlan(List.copyOf(chunks), base, base.plus(slotTableOffset), total);
    }

    /** Device address of {@code chunk}'s first slot. */
    DevicePtr slots(Chunk chunk) {
        return slotTable.plus((long) chunk.slotOffset() * Integer.BYTES);
    }

    /** True when every chunk is written or read in place (zero-copy); then no staging is needed. */
    boolean allMapped() {
        return chunks.stream().allMatch(c -> c.mapped().isPresent());
    }

    boolean anySkips() {
        return chunks.stream().anyMatch(Chunk::skips);
    }

    /** Bytes of the largest chunk that goes through staging; 0 when none does. */
    long largestStagedBytes() {
        return chunks.stream().filter(c -> c.mapped().isEmpty()).mapToLong(c -> c.host().byteSize()).max().orElse(0);
    }
}
