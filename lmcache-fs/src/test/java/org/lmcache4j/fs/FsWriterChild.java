package org.lmcache4j.fs;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import org.lmcache4j.api.ChunkKey;
import org.lmcache4j.api.spi.StorageTier;
import org.lmcache4j.testing.StorageTierContract;

/**
 * Child-process main of {@link SharedFsKilledWriterIT}: writes chunks to the fs tier at a URL from several
 * threads, without end, until it is killed.
 *
 * <pre>
 *   URL ROUND THREADS CHUNK_BYTES
 * </pre>
 * Thread {@code t} puts keys {@link #key}{@code (ROUND, t, 0, 1, ...)}, each with {@link #payloadOf} its
 * key. Prints {@code writing} once every thread has put its first chunk.
 */
public final class FsWriterChild {

    private FsWriterChild() {
    }

    /** The key the writer of {@code round}, thread {@code thread} puts {@code n}-th. */
    static ChunkKey key(int round, int thread, int n) {
        return StorageTierContract.key(round * 10_000_000 + thread * 1_000_000 + n);
    }

    /** The content of {@code key}'s chunk: a function of the key alone, so any reader can check it. */
    static byte[] payloadOf(ChunkKey key, int bytes) {
        return StorageTierContract.payload(ByteBuffer.wrap(key.toBytes()).getLong(), bytes);
    }

    public static void main(String[] args) throws Exception {
        String url = args[0];
        int round = Integer.parseInt(args[1]);
        int threads = Integer.parseInt(args[2]);
        int chunkBytes = Integer.parseInt(args[3]);
        StorageTier tier = FsTiers.open(url, chunkBytes);
        CountDownLatch started = new CountDownLatch(threads);
        List<Thread> writers = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            int thread = t;
            writers.add(Thread.ofPlatform().start(() -> {
                try (Arena arena = Arena.ofConfined()) {
                    MemorySegment payload = arena.allocate(chunkBytes, 64);
                    for (int n = 0; ; n++) {
                        ChunkKey k = key(round, thread, n);
                        MemorySegment.copy(MemorySegment.ofArray(payloadOf(k, chunkBytes)), 0, payload, 0, chunkBytes);
                        tier.put(k, payload);
                        if (n == 0) {
                            started.countDown();
                        }
                    }
                }
            }));
        }
        started.await();
        System.out.println("writing");
        System.out.flush();
        for (Thread w : writers) {
            w.join();
        }
    }
}
