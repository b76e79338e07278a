package org.lmcache4j.storage.engine;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
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
            Optional<ChunkPage> page = reserve(key, bytes, kept);
            if (page.isEmpty()) {
                break;
            }
            try {
                engineKv.gather(slots, from, to, page.get().memory());
            } catch (Throwable t) {
                page.get().release();
                throw t;
            }
            kept.add(key);
            stored += publish(chunks, i, page.get());
        }
        return stored;
    }

    /**
     * The new chunks of a layerwise store, from {@code skipTokens} on, each with the memory its KV will be gathered
     * into: a reserved cpu page, or without a cpu tier a buffer from {@code buffers}. Chunks held already are
     * marked used and skipped, as {@link #store} does; planning stops where {@code store} would stop (a negative
     * slot, no room).
     */
    List<LayerwiseSave.Planned> plan(PromptChunks chunks, int skipTokens, int[] slots, Arena buffers) {
        List<LayerwiseSave.Planned> planned = new ArrayList<>();
        Set<ChunkKey> kept = new HashSet<>();
        for (int i = skipTokens / chunkTokens; i < chunks.count(); i++) {
            int from = chunks.start(i);
            int to = chunks.end(i);
            if (KvArguments.anyNegative(slots, from, to)) {
                break;
            }
            ChunkKey key = chunks.key(i);
            long bytes = layout.chunkBytes(to - from);
            if (buffers != null) {
                if (tiers.slower().isEmpty()) {
                    break;
                }
                if (tiers.holding(key).isPresent()) {
                    counters.storeSkippedChunks.increment();
                    continue;
                }
                planned.add(new LayerwiseSave.Planned(i, null, buffers.allocate(bytes, 64)));
                continue;
            }
            if (tiers.cpuGuard().contains(key)) {
                tiers.cpu().orElseThrow().touch(key);
                kept.add(key);
                counters.storeSkippedChunks.increment();
                continue;
            }
            Optional<ChunkPage> page = reserve(key, bytes, kept);
            if (page.isEmpty()) {
                break;
            }
            kept.add(key);
            planned.add(new LayerwiseSave.Planned(i, page.get(), null));
        }
        return planned;
    }

    /**
     * A cpu page for chunk {@code key} of {@code bytes}, never evicting {@code kept}; empty (the drop counted and
     * its reason recorded) when the tier has no room or fails.
     */
    Optional<ChunkPage> reserve(ChunkKey key, long bytes, Set<ChunkKey> kept) {
        CpuTier cpu = tiers.cpu().orElseThrow();
        GuardedTier cpuGuard = tiers.cpuGuard();
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
        }
        return page;
    }

    /**
     * Publishes chunk {@code i} of {@code chunks}, whose KV {@code page} holds: in the cpu tier, then queued to be
     * written behind. The tokens newly stored: 0 when another store of the same chunk published it first.
     */
    int publish(PromptChunks chunks, int i, ChunkPage page) {
        ChunkKey key = chunks.key(i);
        int from = chunks.start(i);
        int to = chunks.end(i);
        long bytes = layout.chunkBytes(to - from);
        if (!tiers.cpu().orElseThrow().commit(key, page, bytes)) {
            counters.storeSkippedChunks.increment(); // another store of the same prefix won the race
            return 0;
        }
        events.stored(tiers.cpuGuard().name(), key, chunks.parent(i), from, to);
        tiers.writeBehind(key);
        if (to - from < chunkTokens) {
            partialTails.add(chunks.parent(i), to - from);
        }
        counters.storedChunks.increment();
        counters.storedBytes.add(bytes);
        return to - from;
    }

    /**
     * Stores chunk {@code i} of {@code chunks} from {@code bytes} (its whole payload) rather than from engine memory:
     * into a cpu page, or without a cpu tier into the slower tiers. The tokens newly stored.
     */
    int storeBytes(PromptChunks chunks, int i, MemorySegment bytes) {
        if (tiers.cpu().isEmpty()) {
            return publishSlower(chunks, i, bytes) ? chunks.end(i) - chunks.start(i) : 0;
        }
        Optional<ChunkPage> page = reserve(chunks.key(i), bytes.byteSize(), Set.of());
        if (page.isEmpty()) {
            return 0;
        }
        page.get().memory().copyFrom(bytes);
        return publish(chunks, i, page.get());
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
                taken = publishSlower(chunks, i, chunk);
            }
            if (!taken) {
                break; // later chunks would not be a prefix
            }
            stored += to - from;
        }
        return stored;
    }

    /** Without a cpu tier: puts chunk {@code i}'s KV into the slower tiers; false (the drop counted) when none took it. */
    boolean publishSlower(PromptChunks chunks, int i, MemorySegment chunk) {
        int from = chunks.start(i);
        int to = chunks.end(i);
        if (!tiers.putSlower(chunks.key(i), chunk, chunks.parent(i), from, to)) {
            counters.storeDroppedChunks.increment();
            return false;
        }
        if (to - from < chunkTokens) {
            partialTails.add(chunks.parent(i), to - from);
        }
        counters.storedChunks.increment();
        counters.storedBytes.add(layout.chunkBytes(to - from));
        return true;
    }
}
