package org.lmcache4j.codec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.lmcache4j.api.KvDtype;
import org.lmcache4j.api.KvLayout;
import org.lmcache4j.api.spi.KvCodec;

class ShuffledBlockCodecThreadsTest {

    private static final int THREADS = 6;
    private static final int ROUNDS = 12;

    static List<KvCodec> codecs() {
        return LosslessCodecs.all();
    }

    @ParameterizedTest
    @MethodSource("codecs")
    void oneInstanceEncodesAndDecodesDifferentChunksOnManyThreads(KvCodec codec) throws Exception {
        CountDownLatch start = new CountDownLatch(1);
        try (ExecutorService pool = Executors.newFixedThreadPool(THREADS)) {
            List<Future<Integer>> results = new ArrayList<>();
            for (int t = 0; t < THREADS; t++) {
                int thread = t;
                results.add(pool.submit(() -> {
                    // each thread its own dtype and size: shared state would mix block sizes and planes
                    KvDtype dtype = KvDtype.values()[thread % KvDtype.values().length];
                    KvLayout layout = KvLayout.standard(2 + thread, 2, 64, dtype);
                    start.await();
                    int checked = 0;
                    try (Arena arena = Arena.ofConfined()) {
                        for (int round = 0; round < ROUNDS; round++) {
                            int tokens = 100 + 37 * round + thread;
                            MemorySegment chunk = arena.allocate(layout.chunkBytes(tokens));
                            GaussianKvBytes.fill(chunk, layout, 1000L * thread + round);
                            // compressible whatever the dtype and codec (shuffle+nibble codes fp8's few repeated values only)
                            chunk.asSlice(0, chunk.byteSize() / 8 * 7).fill((byte) round);
                            MemorySegment encoded = arena.allocate(codec.maxEncodedBytes(layout, chunk.byteSize()));
                            long length = codec.encode(layout, chunk, encoded);
                            assertNotEquals(-1, length);
                            MemorySegment decoded = round % 2 == 0 ? arena.allocate(chunk.byteSize())
                                    : MemorySegment.ofArray(new byte[(int) chunk.byteSize()]);
                            codec.decode(layout, encoded.asSlice(0, length), decoded);
                            assertEquals(-1, decoded.mismatch(chunk), "thread " + thread + " round " + round);
                            checked++;
                        }
                    }
                    return checked;
                }));
            }
            start.countDown();
            for (Future<Integer> result : results) {
                assertEquals(ROUNDS, result.get());
            }
        }
    }
}
