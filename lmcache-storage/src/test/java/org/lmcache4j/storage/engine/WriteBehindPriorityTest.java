package org.lmcache4j.storage.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;
import static org.lmcache4j.storage.engine.Engines.CHUNK;
import static org.lmcache4j.storage.engine.Engines.CHUNK_BYTES;
import static org.lmcache4j.storage.engine.Engines.SMALL;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lmcache4j.api.HostKvMemory;
import org.lmcache4j.api.LmCacheConfig;
import org.lmcache4j.nativeio.Libc;
import org.lmcache4j.testing.SeededKv;

/**
 * The write-behind threads can be given a lower priority ({@code -Dlmcache.writeBehind.nice=19}), and that
 * costs nothing but time: with every core busy, every stored chunk still reaches the disk tier, byte for byte.
 */
class WriteBehindPriorityTest {

    private static final Path TASKS = Path.of("/proc/self/task");

    @TempDir
    Path dir;

    @Test
    void writerThreadsRunAtTheLowestPriorityWhenAsked() throws Exception {
        assumeTrue(Files.isDirectory(TASKS) && Libc.instance().isPresent(), "needs Linux /proc and libc");
        System.setProperty(WriteBehind.NICE_PROPERTY, "19");
        try {
            lowestPriority();
        } finally {
            System.clearProperty(WriteBehind.NICE_PROPERTY);
        }
    }

    private void lowestPriority() throws Exception {
        LmCacheConfig config = Engines.config().localDisk(dir).maxLocalDiskBytes(64 * CHUNK_BYTES).build();
        int n = 2 * CHUNK;
        int[] tokens = SeededKv.tokens(1, n);
        int[] slots = SeededKv.identitySlots(n);
        try (Arena arena = Arena.ofShared(); TieredCacheEngine engine = Engines.open(config)) {
            HostKvMemory kv = SeededKv.contiguous(arena, SMALL, n);
            SeededKv.fill(kv, tokens, slots);
            engine.store(tokens, kv, slots);
            long deadline = System.nanoTime() + 10_000_000_000L;
            List<Integer> nices = writerNices();
            while ((nices.isEmpty() || nices.contains(0)) && System.nanoTime() < deadline) {
                Thread.sleep(10); // the writer lowers its own priority when it starts
                nices = writerNices();
            }
            assertFalse(nices.isEmpty(), "a write-behind thread runs");
            assertEquals(List.of(19), nices.stream().distinct().toList(), "nice of the writers");
            assertEquals(0, nice(Files.readString(Path.of("/proc/thread-self/stat"))), "the caller keeps its own priority");
        }
    }

    @Test
    void withEveryCoreBusyEveryStoredChunkStillReachesTheDiskByteForByte() throws Exception {
        LmCacheConfig config = Engines.config().localDisk(dir).maxLocalDiskBytes(64 * CHUNK_BYTES).build();
        int n = 6 * CHUNK;
        int[] tokens = SeededKv.tokens(2, n);
        int[] slots = SeededKv.identitySlots(n);
        AtomicBoolean spin = new AtomicBoolean(true);
        List<Thread> busy = new ArrayList<>();
        for (int i = 0; i < Runtime.getRuntime().availableProcessors(); i++) { // an engine using every core
            busy.add(Thread.ofPlatform().daemon().start(() -> {
                long x = 0;
                while (spin.get()) {
                    x += System.nanoTime() & 1;
                }
                if (x == 42) {
                    System.out.print("");
                }
            }));
        }
        try (Arena arena = Arena.ofShared()) {
            HostKvMemory kv = SeededKv.contiguous(arena, SMALL, n);
            SeededKv.fill(kv, tokens, slots);
            try {
                try (TieredCacheEngine first = Engines.open(config)) {
                    assertEquals(n, first.store(tokens, kv, slots));
                } // close drains the write-behind queue, however slowly the writer runs
            } finally {
                spin.set(false);
                for (Thread t : busy) {
                    t.join();
                }
            }
            try (TieredCacheEngine second = Engines.open(config)) {
                assertEquals(n, second.lookup(tokens), "every chunk reached the disk tier");
                HostKvMemory target = SeededKv.paged(arena, SMALL, 40, 4);
                int[] targetSlots = SeededKv.shuffledSlots(5, n, target.numSlots());
                assertEquals(n, second.retrieve(tokens, target, targetSlots));
                SeededKv.assertSameKv(kv, slots, target, targetSlots, 0, n);
            }
        }
    }

    /** Nice values of this process's write-behind threads (Linux truncates thread names to 15 characters). */
    private static List<Integer> writerNices() throws IOException {
        List<Integer> nices = new ArrayList<>();
        try (Stream<Path> tasks = Files.list(TASKS)) {
            for (Path task : tasks.toList()) {
                try {
                    if (Files.readString(task.resolve("comm")).strip().startsWith("lmcache-write-b")) {
                        nices.add(nice(Files.readString(task.resolve("stat"))));
                    }
                } catch (IOException endedMeanwhile) {
                    // a thread that ended while we looked
                }
            }
        }
        return nices;
    }

    /** Field 19 of /proc/[pid]/task/[tid]/stat, counted after the parenthesised name (which may hold spaces). */
    private static int nice(String stat) {
        String[] after = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        assertTrue(after.length > 16, stat);
        return Integer.parseInt(after[16]); // fields 3.. follow the name: field 19 is index 16
    }
}
