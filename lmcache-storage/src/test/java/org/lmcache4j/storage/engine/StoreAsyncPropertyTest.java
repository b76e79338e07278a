package org.lmcache4j.storage.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.lmcache4j.storage.engine.Engines.CHUNK;
import static org.lmcache4j.storage.engine.Engines.CHUNK_BYTES;
import static org.lmcache4j.storage.engine.Engines.SMALL;

import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.lmcache4j.api.ChunkEvent;
import org.lmcache4j.api.HostKvMemory;
import org.lmcache4j.api.KvEventListener;
import org.lmcache4j.api.LmCacheConfig;
import org.lmcache4j.api.StoreHandle;
import org.lmcache4j.api.spi.StorageTier;
import org.lmcache4j.storage.cpu.CpuTier;
import org.lmcache4j.testing.PropertyCheck;
import org.lmcache4j.testing.SeededKv;

/**
 * {@code storeAsync} copies exactly what {@code store} copies: two connectors run the same random script
 * of stores (prompts sharing prefixes, masks, negative slots, partial tails, paged and contiguous memory,
 * budgets small enough to evict and drop, with and without a cpu tier), one with {@code store} and one
 * with {@code storeAsync} and {@code join}; results, stats, chunk events, lookups and retrieved KV bytes
 * must be identical after every step.
 */
class StoreAsyncPropertyTest {

    /** The chunk events and STORE timings of a connector, without sequence numbers and durations. */
    private static final class Recorder implements KvEventListener {
        final List<String> lines = new ArrayList<>();

        @Override
        public synchronized void onChunkEvent(ChunkEvent e) {
            lines.add(e.type() + " " + e.tier() + " " + e.key() + " " + e.parent() + " " + e.startToken() + "-" + e.endToken());
        }

        @Override
        public synchronized void onOperation(Operation op, long nanos, int tokens, int hit) {
            lines.add(op + " " + tokens + " " + hit);
        }

        synchronized List<String> snapshot() {
            return List.copyOf(lines);
        }
    }

    private record Step(int[] tokens, boolean[] mask, int[] slots) {
    }

    @Test
    void storeAsyncStoresWhatStoreStores() {
        PropertyCheck.forAll("storeAsync and join leave the cache exactly as store does", 200, gen -> {
            boolean saveUnfull = gen.chance(0.5);
            boolean cpuTier = gen.chance(0.8);
            int budgetChunks = gen.between(2, 12);
            LmCacheConfig config = Engines.config().saveUnfullChunk(saveUnfull).localCpu(cpuTier)
                    .maxLocalCpuBytes(cpuTier ? budgetChunks * CHUNK_BYTES : 0).build();
            boolean paged = gen.chance(0.5);
            int blockSize = gen.oneOf(1, 4, CHUNK);
            int maxTokens = 6 * CHUNK + CHUNK / 2;
            int[] base = gen.tokens(maxTokens, SeededKv.VOCAB_SIZE);
            try (Arena arena = Arena.ofShared();
                 TieredCacheEngine sync = open(config, cpuTier, budgetChunks);
                 TieredCacheEngine async = open(config, cpuTier, budgetChunks)) {
                Recorder syncEvents = new Recorder();
                Recorder asyncEvents = new Recorder();
                sync.subscribe(syncEvents);
                async.subscribe(asyncEvents);
                List<int[]> prompts = new ArrayList<>();
                int steps = gen.between(1, 5);
                for (int s = 0; s < steps; s++) {
                    Step step = step(gen, base, maxTokens);
                    prompts.add(step.tokens());
                    int slotsTotal = ((maxTokens + blockSize - 1) / blockSize) * blockSize;
                    HostKvMemory kv = paged ? SeededKv.paged(arena, SMALL, slotsTotal / blockSize, blockSize)
                            : SeededKv.contiguous(arena, SMALL, slotsTotal);
                    int[] slots = step.slots();
                    SeededKv.fill(kv, step.tokens(), slots);
                    int expected = sync.store(step.tokens(), step.mask(), kv, slots);
                    StoreHandle handle = async.storeAsync(step.tokens(), step.mask(), kv, slots);
                    assertEquals(expected, handle.join(), "tokens stored by step " + s);
                    assertEquals(sync.stats(), async.stats(), "stats after step " + s);
                }
                assertEquals(syncEvents.snapshot(), asyncEvents.snapshot(), "chunk events and STORE timings");
                for (int[] prompt : prompts) {
                    assertEquals(sync.lookup(prompt), async.lookup(prompt), "lookup of a stored prompt");
                    HostKvMemory fromSync = SeededKv.contiguous(arena, SMALL, prompt.length);
                    HostKvMemory fromAsync = SeededKv.contiguous(arena, SMALL, prompt.length);
                    int[] identity = SeededKv.identitySlots(prompt.length);
                    int got = sync.retrieve(prompt, fromSync, identity);
                    assertEquals(got, async.retrieve(prompt, fromAsync, identity), "tokens retrieved");
                    SeededKv.assertSameKv(fromSync, identity, fromAsync, identity, 0, prompt.length);
                }
                assertEquals(sync.stats(), async.stats(), "stats after the lookups and retrieves");
                assertEquals(sync.outstandingPages(), async.outstandingPages(), "cpu pages held");
            }
        });
    }

    /** A connector with a cpu tier, or with only a slower (cpu-kind) tier below it. */
    private static TieredCacheEngine open(LmCacheConfig config, boolean cpuTier, int budgetChunks) {
        if (cpuTier) {
            return Engines.open(config);
        }
        List<StorageTier> slower = List.of(new CpuTier(budgetChunks * CHUNK_BYTES, CHUNK_BYTES));
        return new TieredCacheEngine(config, SMALL, System::nanoTime, UnaryOperator.identity(), slower);
    }

    /**
     * A prompt that shares a random prefix with {@code base} (so steps overlap), a store mask (none, or a
     * chunk-multiple false prefix), and slots: distinct, shuffled, some negative at times.
     */
    private static Step step(PropertyCheck.Gen gen, int[] base, int maxTokens) {
        int length = gen.size(maxTokens);
        int shared = gen.between(0, length);
        int[] tokens = Arrays.copyOf(base, length);
        for (int i = shared; i < length; i++) {
            tokens[i] = gen.random().nextInt(SeededKv.VOCAB_SIZE);
        }
        boolean[] mask = null;
        if (gen.chance(0.4)) {
            mask = new boolean[length];
            int prefix = gen.between(0, length / CHUNK) * CHUNK;
            Arrays.fill(mask, prefix, length, true);
        }
        int[] slots = gen.chance(0.5) ? SeededKv.identitySlots(length)
                : SeededKv.shuffledSlots(gen.random().nextLong(), length, maxTokens);
        if (length > 0 && gen.chance(0.3)) {
            slots[gen.between(0, length - 1)] = -1;
        }
        return new Step(tokens, mask, slots);
    }
}
