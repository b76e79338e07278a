package org.lmcache4j.storage.disk;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.lmcache4j.storage.disk.DiskTierTest.FINGERPRINT;
import static org.lmcache4j.testing.StorageTierContract.key;
import static org.lmcache4j.testing.StorageTierContract.payload;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Disk tiers a test opens on one {@link FaultyDiskIo} (fsync on, the system clock), and the native memory their
 * payloads are copied into; {@link #close} closes them all, then the memory.
 */
final class DiskTierFixture implements AutoCloseable {

    final FaultyDiskIo io = new FaultyDiskIo();
    private final Arena arena = Arena.ofShared();
    private final List<DiskTier> opened = new ArrayList<>();

    /** A tier in {@code dir} of {@code capacityBytes}, closed with this fixture. */
    DiskTier open(Path dir, long capacityBytes) {
        DiskTier t = new DiskTier(dir, capacityBytes, FINGERPRINT, true, System::nanoTime, io);
        opened.add(t);
        return t;
    }

    /** {@code bytes} in native memory, as an engine's KV is. */
    MemorySegment nativeCopy(byte[] bytes) {
        MemorySegment s = arena.allocate(Math.max(1, bytes.length), 64).asSlice(0, bytes.length);
        MemorySegment.copy(MemorySegment.ofArray(bytes), 0, s, 0, bytes.length);
        return s;
    }

    /** Puts chunk {@code i} of {@code sizeBytes} ({@code StorageTierContract.payload}), failing the test if refused. */
    void put(DiskTier t, int i, int sizeBytes) {
        assertTrue(t.put(key(i), nativeCopy(payload(i, sizeBytes))), "put " + i);
    }

    @Override
    public void close() {
        opened.forEach(DiskTier::close);
        arena.close();
    }
}
