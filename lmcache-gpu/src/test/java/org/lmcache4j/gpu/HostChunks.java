package org.lmcache4j.gpu;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.function.IntPredicate;
import org.lmcache4j.api.spi.ChunkCopy;

/**
 * Host chunk buffers for every chunk of a {@link KvScenario}, carved out of page-aligned slabs as the cpu
 * tier does, each starting {@code chunkMisalignment} bytes past a 16-byte boundary. Chunks {@code i} with
 * {@code inFirstSlab(i)} live in the first slab (the one a test may register), the rest in the second.
 */
final class HostChunks implements AutoCloseable {

    private final Arena arena = Arena.ofShared();
    private final MemorySegment[] slabs = new MemorySegment[2];
    private final List<ChunkCopy> copies = new ArrayList<>();

    HostChunks(KvScenario s, IntPredicate inFirstSlab) {
        List<int[]> ranges = s.chunkRanges();
        long[] used = new long[2];
        long[] offsets = new long[ranges.size()];
        for (int i = 0; i < ranges.size(); i++) {
            int slab = inFirstSlab.test(i) ? 0 : 1;
            long start = (used[slab] + 15) / 16 * 16 + s.chunkMisalignment();
            offsets[i] = start;
            used[slab] = start + s.chunkBytes(ranges.get(i)[1] - ranges.get(i)[0]);
        }
        for (int slab = 0; slab < 2; slab++) {
            slabs[slab] = arena.allocate(Math.max(4096, (used[slab] + 4095) / 4096 * 4096), 4096);
        }
        for (int i = 0; i < ranges.size(); i++) {
            int[] r = ranges.get(i);
            MemorySegment slab = slabs[inFirstSlab.test(i) ? 0 : 1];
            copies.add(new ChunkCopy(r[0], r[1], slab.asSlice(offsets[i], s.chunkBytes(r[1] - r[0]))));
        }
    }

    List<ChunkCopy> copies() {
        return copies;
    }

    MemorySegment slab(int index) {
        return slabs[index];
    }

    byte[] bytes(int chunk) {
        return copies.get(chunk).chunk().toArray(JAVA_BYTE);
    }

    void set(int chunk, byte[] bytes) {
        MemorySegment.copy(bytes, 0, copies.get(chunk).chunk(), JAVA_BYTE, 0, bytes.length);
    }

    @Override
    public void close() {
        arena.close();
    }
}
