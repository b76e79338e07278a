package org.lmcache4j.storage.engine;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.HashSet;
import java.util.Optional;
import java.util.Set;
import java.util.function.BooleanSupplier;
import org.lmcache4j.api.ChunkKey;
import org.lmcache4j.api.KvLayout;
import org.lmcache4j.api.MissReason;
import org.lmcache4j.storage.copy.EngineKvCopier;
import org.lmcache4j.storage.cpu.ChunkPage;
import org.lmcache4j.storage.cpu.CpuTier;
import org.lmcache4j.storage.hash.PromptChunks;

/**
 * The store path of a connector: gathers each new chunk of a prompt straight from engine memory into a
 * reserved cpu page and publishes it (no intermediate copy), then queues it to be written behind; a
 * chunk already stored is only marked used. Without a cpu tier, chunks go through a temporary buffer
 * into the slower tiers. Either way the stored chunks are always a prefix.
 */
final class PromptStore {

    private final TierStack tiers;
    private final KvLayout layout;
    private final int chunkTokens;
    private final ConnectorCounters counters;
    private final KvEvents events;
    private final PartialTails partialTails;

    PromptStore(TierStack tiers, KvLayout layout, int chunkTokens, ConnectorCounters counters, KvEvents events,
                PartialTails partialTails) {
        this.tiers = tiers;
        this.layout = layout;
        this.chunkTokens = chunkTokens;
        this.counters = counters;
        this.events = events;
        this.partialTails = partialTails;
    }

    /**
     * Copies the chunks of {@code chunks} from {@code skipTokens} on out of engine memory, stopping before
     * the first chunk with a negative slot or that no tier could take; the tokens newly stored.
     */
    int store(PromptChunks chunks, int skipTokens, EngineKvCopier engineKv, int[] slots) {
        return store(chunks, skipTokens, engineKv, slots, () -> false);
    }

    /**
     * {@link #store(PromptChunks, int, EngineKvCopier, int[])}, also stopping before a chunk when {@code stop}
     * says so (a background store whose connector is closing): what was stored until then stays, a prefix.
     */
    int store(PromptChunks chunks, int skipTokens, EngineKvCopier engineKv, int[] slots, BooleanSupplier stop) {
        if (tiers.cpu().isEmpty()) {
            return storeWithoutCpuTier(chunks, skipTokens, engineKv, slots, stop);
        }
        CpuTier cpu = tiers.cpu().get();
        GuardedTier cpuGuard = tiers.cpuGuard();
        Set<ChunkKey> kept = new HashSet<>(); // this call's prefix: never evicted to make room for its own tail
        int stored = 0;
        for (int i = skipTokens / chunkTokens; i < chunks.count(); i++) {
            int from = chunks.start(i);
            int to = chunks.end(i);
            if (KvArguments.anyNegative(slots, from, to) || stop.getAsBoolean()) {
                break; // this chunk's KV is not in engine memory (or the connector is closing); later chunks would not be a prefix
            }
            ChunkKey key = chunks.key(i);
            if (cpuGuard.contains(key)) {
                cpu.touch(key);
                kept.add(key);
                counters.storeSkippedChunks.increment();
                continue;
            }
            long bytes = layout.chunkBytes(to - from);
            Optional<ChunkPage> page;
            MissReason dropReason = MissReason.PINNED_FULL;
            try {
                page = cpuGuard.succeeded(cpu.reserve(bytes, kept));
            } catch (RuntimeException | OutOfMemoryError e) {
                page = cpuGuard.failed("reserve", e, Optional.empty());
                dropReason = MissReason.TIER_UNHEALTHY;
            }
            if (page.isEmpty()) {
                counters.storeDroppedChunks.increment();
                events.departures().record(key, dropReason, cpuGuard.name());
                break;
            }
            try {
                engineKv.gather(slots, from, to, page.get().memory());
            } catch (Throwable t) {
                page.get().release();
                throw t;
            }
            kept.add(key);
            if (!cpu.commit(key, page.get(), bytes)) {
                counters.storeSkippedChunks.increment(); // another store of the same prefix won the race
                continue;
            }
            events.stored(cpuGuard.name(), key, chunks.parent(i), from, to);
            tiers.writeBehind(key);
            if (to - from < chunkTokens) {
                partialTails.add(chunks.parent(i), to - from);
            }
            stored += to - from;
            counters.storedChunks.increment();
            counters.storedBytes.add(bytes);
        }
        return stored;
    }

    /**
     * Without a cpu tier, each chunk is gathered into a temporary buffer and put into the slower tiers. Only
     * chunks at least one tier took are stored; the first chunk none took ends the stored prefix.
     */
    private int storeWithoutCpuTier(PromptChunks chunks, int skipTokens, EngineKvCopier engineKv, int[] slots,
                                    BooleanSupplier stop) {
        int stored = 0;
        for (int i = skipTokens / chunkTokens; i < chunks.count() && !tiers.slower().isEmpty(); i++) {
            int from = chunks.start(i);
            int to = chunks.end(i);
            if (KvArguments.anyNegative(slots, from, to) || stop.getAsBoolean()) {
                break;
            }
            ChunkKey key = chunks.key(i);
            if (tiers.holding(key).isPresent()) {
                counters.storeSkippedChunks.increment();
                continue;
            }
            boolean taken;
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment chunk = arena.allocate(layout.chunkBytes(to - from), 64);
                engineKv.gather(slots, from, to, chunk);
                taken = tiers.putSlower(key, chunk, chunks.parent(i), from, to);
            }
            if (!taken) {
                counters.storeDroppedChunks.increment();
                break; // later chunks would not be a prefix
            }
            if (to - from < chunkTokens) {
                partialTails.add(chunks.parent(i), to - from);
            }
            stored += to - from;
            counters.storedChunks.increment();
            counters.storedBytes.add(layout.chunkBytes(to - from));
        }
        return stored;
    }
}
