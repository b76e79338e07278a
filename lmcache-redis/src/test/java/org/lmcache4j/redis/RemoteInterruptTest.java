package org.lmcache4j.redis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.lmcache4j.testing.StorageTierContract.key;
import static org.lmcache4j.testing.StorageTierContract.payload;

import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.lmcache4j.api.ChunkKey;

/**
 * A thread interrupted while it waits for the server: its call ends, the interrupt stays set for the
 * caller to see, and the breaker counts nothing (the server did not fail; with {@code breakerFailures=1}
 * one counted failure would open the circuit for every thread). The server is held with
 * {@code CLIENT PAUSE} so the interrupt lands while the call waits for its reply.
 */
class RemoteInterruptTest {

    @RegisterExtension
    final LocalRedis redis = new LocalRedis(16 << 10);
    private RemoteTier tier;

    @BeforeEach
    void openTier() {
        tier = redis.tier("&timeoutMillis=20000&breakerFailures=1");
    }

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void anInterruptedLookupOnTheClientIsNotAnOutage() throws Exception {
        ChunkKey k = key(1);
        assertTrue(tier.put(k, MemorySegment.ofArray(payload(1, 40_000))));
        // A virtual thread: the client's blocking socket gives up its read when such a thread is interrupted.
        assertInterruptedCallNotCounted(true, () -> tier.contains(k));
        assertTrue(tier.contains(k), "the tier works on after the interrupt");
    }

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void anInterruptedReadOnTheDirectPathIsNotAnOutage() throws Exception {
        ChunkKey k = key(2);
        byte[] content = payload(2, 40_000);
        assertTrue(tier.put(k, MemorySegment.ofArray(content)));
        byte[][] partKeys = {"nothing-here".getBytes()};
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment dst = arena.allocate(8);
            // A platform thread: the direct path's selector wakes up on an interrupt of any thread.
            assertInterruptedCallNotCounted(false,
                    () -> tier.link().callWire("read", w -> w.readParts(partKeys, new int[] {8}, dst, new CRC32C(), new int[1])));
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment target = arena.allocate(content.length);
            assertEquals(content.length, tier.readInto(k, target), "the tier works on after the interrupt");
            assertEquals(java.util.Arrays.hashCode(content), java.util.Arrays.hashCode(target.toArray(ValueLayout.JAVA_BYTE)));
        }
    }

    /** Runs {@code call} on a new thread while the server is paused (3 s; the timeout is 20 s), interrupts it as it waits, and checks what it left. */
    private void assertInterruptedCallNotCounted(boolean virtual, Supplier<?> call) throws Exception {
        AtomicReference<Throwable> thrown = new AtomicReference<>();
        AtomicBoolean interruptSeen = new AtomicBoolean();
        Thread.Builder builder = virtual ? Thread.ofVirtual() : Thread.ofPlatform();
        redis.server().call("CLIENT", "PAUSE", "3000", "ALL");
        try {
            Thread t = builder.unstarted(() -> {
                try {
                    call.get();
                } catch (Throwable e) {
                    thrown.set(e);
                }
                interruptSeen.set(Thread.currentThread().isInterrupted());
            });
            t.start();
            Thread.sleep(300); // it waits for the reply by now (had the interrupt come earlier, it would meet the wait all the same)
            t.interrupt();
            t.join(15_000);
            assertEquals(Thread.State.TERMINATED, t.getState(), "the interrupted call ended");
        } finally {
            redis.server().call("CLIENT", "UNPAUSE");
        }
        assertInstanceOf(UncheckedIOException.class, thrown.get(), "the interrupted call fails as a remote failure does");
        assertTrue(interruptSeen.get(), "the interrupt is still set when the call returns");
        assertEquals(RemoteCircuitBreaker.State.CLOSED, tier.link().breaker().state(), "an interrupt is no outage");
        assertEquals(0, tier.link().breaker().consecutiveFailures(), "nothing counted");
    }
}
