package org.lmcache4j.storage.engine;

import java.util.Optional;
import org.lmcache4j.api.ChunkKey;
import org.lmcache4j.storage.hash.PromptChunks;

/**
 * Walks a prompt's chunks in order while they are found, so every result is a contiguous prefix. With
 * partial tails on, a missing full chunk may still be matched by a stored partial chunk behind the same
 * parent (a shorter stored prompt that this one extends); such a match ends the walk.
 */
final class PrefixWalk {

    /** Finds the chunk {@code key} holding tokens {@code [start, end)}, or says it is not (or may not be) used. */
    @FunctionalInterface
    interface ChunkProbe<T> {
        Optional<T> find(ChunkKey key, int start, int end);
    }

    /** One chunk found: its key, its first token and one past its last, and what the probe gave. */
    record Match<T>(ChunkKey key, int start, int end, T value) {
    }

    /** Called for each chunk found, in order; false stops the walk before that chunk. */
    @FunctionalInterface
    interface MatchSink<T> {
        boolean accept(Match<T> match);
    }

    private final PartialTails partialTails; // null when partial tails are off

    PrefixWalk(PartialTails partialTails) {
        this.partialTails = partialTails;
    }

    /** Walks from chunk {@code firstChunk}; returns where the accepted prefix ends, 0 if nothing was. */
    <T> int walk(PromptChunks chunks, int firstChunk, ChunkProbe<T> probe, MatchSink<T> sink) {
        int end = 0;
        for (int i = firstChunk; i < chunks.count(); i++) {
            Optional<Match<T>> match = match(chunks, i, probe);
            if (match.isEmpty() || !sink.accept(match.get())) {
                break;
            }
            end = match.get().end();
            if (end < chunks.end(i)) {
                break;
            }
        }
        return end;
    }

    private <T> Optional<Match<T>> match(PromptChunks chunks, int i, ChunkProbe<T> probe) {
        ChunkKey key = chunks.key(i);
        int start = chunks.start(i);
        Optional<T> found = probe.find(key, start, chunks.end(i));
        if (found.isPresent()) {
            return Optional.of(new Match<>(key, start, chunks.end(i), found.get()));
        }
        if (partialTails == null) {
            return Optional.empty();
        }
        int[] lengths = partialTails.lengths(chunks.parent(i));
        int longest = chunks.end(i) - start;
        for (int j = lengths.length - 1; j >= 0; j--) {
            if (lengths[j] < longest) {
                ChunkKey partial = chunks.partialKey(i, lengths[j]);
                Optional<T> p = probe.find(partial, start, start + lengths[j]);
                if (p.isPresent()) {
                    return Optional.of(new Match<>(partial, start, start + lengths[j], p.get()));
                }
            }
        }
        return Optional.empty();
    }
}
