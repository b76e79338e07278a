package org.lmcache4j.fs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lmcache4j.api.KvConnector;
import org.lmcache4j.fs.FsEngines.Prompt;

/**
 * Budget sweeps racing with readers never reach an engine: two reader engines retrieve prompts in a loop
 * (checking every byte) while a writer engine (whose small cpu tier keeps writing them again) stores them and two other tiers on the directory sweep it
 * without pause under a budget of twelve chunks (of the 38 the prompts have), deleting files between a reader's lookup and its read, and
 * under its open files. For {@value #SECONDS_PROPERTY} seconds (default 10; up to twice that until a reader
 * has hit a file and a sweep has deleted one): no exception out of any
 * engine, no error in the readers' fs tier (a vanished file is a miss), every hit byte-exact, and both
 * hits and sweep deletions happened.
 */
class SharedFsSweepRaceIT {

    static final String SECONDS_PROPERTY = "lmcache.fs.sweepRaceSeconds";
    private static final int PROMPTS = 6;

    @TempDir
    Path dir;

    @Test
    void sweepsDeletingUnderReadersNeverThrowIntoAnEngineAndHitsStayExact() throws Exception {
        long deadline = System.nanoTime() + Long.getLong(SECONDS_PROPERTY, 10) * 1_000_000_000L;
        long chunkFileBytes = 4096 + FsEngines.CHUNK_BYTES;
        String engineUrl = FsTiers.url(dir, "capacity=" + 32 * chunkFileBytes + "&sweepMillis=10&touchMillis=0");
        String sweeperUrl = FsTiers.url(dir, "capacity=" + 12 * chunkFileBytes + "&sweepMillis=0");
        ConcurrentLinkedQueue<Throwable> failures = new ConcurrentLinkedQueue<>();
        LongAdder hitTokens = new LongAdder();
        LongAdder swept = new LongAdder();
        AtomicBoolean stop = new AtomicBoolean();
        List<Thread> threads = new ArrayList<>();
        try (Arena arena = Arena.ofShared();
             KvConnector writer = FsEngines.open(engineUrl, 16);
             KvConnector reader1 = FsEngines.open(engineUrl, 4);
             KvConnector reader2 = FsEngines.open(engineUrl, 4);
             SharedFsTier sweeper1 = FsEngines.openTier(sweeperUrl);
             SharedFsTier sweeper2 = FsEngines.openTier(sweeperUrl)) {
            Prompt[] prompts = new Prompt[PROMPTS];
            for (int s = 0; s < PROMPTS; s++) {
                prompts[s] = Prompt.of(arena, s);
            }
            // Before the race: one prompt reaches the directory and a reader hits it there (write-behind is
            // asynchronous), so the readers' fs path is known to work; in loaded suite runs the race alone
            // sometimes gave the readers no fs hit at all.
            prompts[0].store(writer);
            long warm = System.nanoTime() + 30_000_000_000L;
            while (fsHitTokens(reader1, reader2) == 0 && System.nanoTime() < warm) {
                hitTokens.add(prompts[0].retrieveAndCheck(reader1));
                Thread.sleep(10);
            }
            threads.add(loop(stop, failures, r -> prompts[r.nextInt(PROMPTS)].store(writer)));
            for (KvConnector reader : List.of(reader1, reader2)) {
                threads.add(loop(stop, failures, r -> {
                    Prompt p = prompts[r.nextInt(PROMPTS)];
                    reader.lookup(p.tokens());
                    hitTokens.add(p.retrieveAndCheck(reader));
                }));
            }
            for (SharedFsTier sweeper : List.of(sweeper1, sweeper2)) {
                threads.add(loop(stop, failures, r -> {
                    swept.add(sweeper.sweep().evicted());
                    Thread.sleep(1); // aggressive, yet the readers get a turn on two cores
                }));
            }
            // Past the deadline it runs on (up to twice as long) until both sides of the race have happened:
            // a reader hitting a file before a sweep takes it is a matter of timing on a busy machine.
            long hardDeadline = deadline + (deadline - System.nanoTime());
            while (failures.isEmpty() && (System.nanoTime() < deadline
                    || System.nanoTime() < hardDeadline && (swept.sum() == 0 || fsHitTokens(reader1, reader2) == 0))) {
                Thread.sleep(100);
            }
            stop.set(true);
            for (Thread t : threads) {
                t.join();
            }
            if (!failures.isEmpty()) {
                AssertionError e = new AssertionError(failures.size() + " failures, first: " + failures.peek(), failures.peek());
                failures.forEach(e::addSuppressed);
                throw e;
            }
            assertEquals(0, FsEngines.fs(reader1.stats()).errors(), "fs tier errors of reader 1: " + reader1.stats());
            assertEquals(0, FsEngines.fs(reader2.stats()).errors(), "fs tier errors of reader 2: " + reader2.stats());
            assertEquals(0, reader1.stats().tierErrors() + reader2.stats().tierErrors(), "tier errors of the readers");
            assertTrue(swept.sum() > 0, "precondition: the sweeps deleted chunk files");
            assertTrue(fsHitTokens(reader1, reader2) > 0, "precondition: the readers hit chunks in the fs tier");
            System.out.println("hit tokens " + hitTokens.sum() + " (from the fs tier " + fsHitTokens(reader1, reader2) + "), sweep deletions " + swept.sum());
        }
    }

    private static long fsHitTokens(KvConnector... readers) {
        long tokens = 0;
        for (KvConnector reader : readers) {
            tokens += reader.stats().retrievedTokensByTier().getOrDefault(SharedFsTier.NAME, 0L);
        }
        return tokens;
    }

    @FunctionalInterface
    private interface Step {
        void run(SplittableRandom random) throws Exception;
    }

    /** A thread running {@code step} until {@code stop}, collecting anything it throws. */
    private static Thread loop(AtomicBoolean stop, ConcurrentLinkedQueue<Throwable> failures, Step step) {
        return Thread.ofPlatform().start(() -> {
            SplittableRandom random = new SplittableRandom();
            while (!stop.get()) {
                try {
                    step.run(random);
                } catch (Throwable e) {
                    failures.add(e);
                    return;
                }
            }
        });
    }
}
