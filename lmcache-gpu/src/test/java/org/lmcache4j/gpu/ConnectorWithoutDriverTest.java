package org.lmcache4j.gpu;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.lmcache4j.api.DeviceKvFormat;
import org.lmcache4j.api.DeviceKvMemory;
import org.lmcache4j.api.HostKvMemory;
import org.lmcache4j.api.KvConnector;
import org.lmcache4j.api.KvConnectors;
import org.lmcache4j.api.KvDtype;
import org.lmcache4j.api.KvLayout;
import org.lmcache4j.api.LmCacheConfig;

/**
 * The connector with this module on the class path and no driver: host-resident KV is stored and
 * retrieved as always; device-resident KV fails with one clear {@link IllegalStateException} that names
 * the CUDA driver, without an LWJGL cause or frame.
 */
class ConnectorWithoutDriverTest {

    private static final KvLayout LAYOUT = KvLayout.standard(2, 2, 8, KvDtype.FP16);

    @Test
    void hostKvStillWorksAndDeviceKvFailsWithOneClearMessage() {
        assumeTrue(CudaAvailability.driverLibrary().isEmpty(), "this machine has a CUDA driver");
        LmCacheConfig config = LmCacheConfig.builder().modelId("lmcache-gpu-test").chunkTokens(16).noLocalDisk()
                .maxLocalCpuBytes(1 << 20).build();
        int[] tokens = new SplittableRandom(5).ints(40, 0, 50_000).toArray();
        int[] slots = new int[tokens.length];
        Arrays.setAll(slots, i -> i);
        try (KvConnector cache = KvConnectors.open(config, LAYOUT); Arena arena = Arena.ofConfined()) {
            HostKvMemory written = hostKv(arena, tokens.length, 1);
            assertEquals(32, cache.store(tokens, written, slots)); // two full chunks; the partial tail is not saved
            HostKvMemory read = hostKv(arena, tokens.length, 2);
            assertEquals(32, cache.retrieve(tokens, read, slots));
            for (int layer = 0; layer < LAYOUT.numLayers(); layer++) {
                for (int plane = 0; plane < 2; plane++) {
                    long bytes = 32L * LAYOUT.rowBytes();
                    assertArrayEquals(written.plane(layer, plane).asSlice(0, bytes).toArray(JAVA_BYTE),
                            read.plane(layer, plane).asSlice(0, bytes).toArray(JAVA_BYTE));
                }
            }

            DeviceKvMemory device = new DeviceKvMemory(LAYOUT, DeviceKvFormat.VLLM, 0, new long[] {4096, 8192}, 4, 16);
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> cache.store(tokens, device, Arrays.copyOf(slots, 32)));
            assertTrue(e.getMessage().contains("CUDA driver"), e.getMessage());
            assertNull(e.getCause());
            assertTrue(Arrays.stream(e.getStackTrace()).noneMatch(f -> f.getClassName().startsWith("org.lwjgl")));
            assertEquals(32, cache.lookup(tokens), "the failed device call changed nothing");
        }
    }

    private static HostKvMemory hostKv(Arena arena, int slots, long seed) {
        List<MemorySegment> keys = new ArrayList<>();
        List<MemorySegment> values = new ArrayList<>();
        SplittableRandom r = new SplittableRandom(seed);
        for (int l = 0; l < LAYOUT.numLayers(); l++) {
            for (List<MemorySegment> plane : List.of(keys, values)) {
                MemorySegment s = arena.allocate((long) slots * LAYOUT.rowBytes(), 64);
                byte[] bytes = new byte[(int) s.byteSize()];
                r.nextBytes(bytes);
                MemorySegment.copy(bytes, 0, s, JAVA_BYTE, 0, bytes.length);
                plane.add(s);
            }
        }
        return HostKvMemory.contiguous(LAYOUT, keys, values);
    }
}
