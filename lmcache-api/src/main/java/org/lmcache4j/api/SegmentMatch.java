package org.lmcache4j.api;

/**
 * What a connector holds of one {@link KvSegment} of a prompt: the first {@code cachedTokens} tokens of the
 * segment are cached (a whole number of chunks, or the whole segment), and their KV was computed at positions
 * {@code cachedStart, cachedStart + 1, ...}. The engine that places them at {@code segment.start()} moves them
 * by {@code segment.start() - cachedStart} positions.
 *
 * @param segment      the segment of the prompt
 * @param cachedTokens tokens cached from the segment's start: 0 (a miss) to {@code segment.length()}
 * @param cachedStart  the position the cached KV's first token was computed at; -1 when nothing is cached
 */
public record SegmentMatch(KvSegment segment, int cachedTokens, int cachedStart) {

    public SegmentMatch {
        if (segment == null) {
            throw new IllegalArgumentException("segment: null");
        }
        if (cachedTokens < 0 || cachedTokens > segment.length()) {
            throw new IllegalArgumentException("cachedTokens: " + cachedTokens + " (expected: 0 to " + segment.length() + ")");
        }
        if (cachedTokens == 0 ? cachedStart != -1 : cachedStart < 0) {
            throw new IllegalArgumentException("cachedStart: " + cachedStart + " with " + cachedTokens
                    + " cached tokens (expected: -1 for a miss, else >= 0)");
        }
    }

    /** A segment nothing of which is cached. */
    public static SegmentMatch miss(KvSegment segment) {
        return new SegmentMatch(segment, 0, -1);
    }

    /** Whether the whole segment is cached. */
    public boolean complete() {
        return cachedTokens == segment.length();
    }

    /** How far the cached KV moves to reach the segment's place in this prompt: {@code segment.start() - cachedStart}. */
    public int shift() {
        return cachedTokens == 0 ? 0 : segment.start() - cachedStart;
    }
}
