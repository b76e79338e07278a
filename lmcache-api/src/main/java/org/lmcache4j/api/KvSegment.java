package org.lmcache4j.api;

import java.util.List;

/**
 * A span {@code [start, end)} of a prompt whose KV is cached on its own, wherever it appears: a document of a
 * RAG prompt, a tool description, a shared instruction block (LMCache's CacheBlend). Unlike a chunk, a
 * segment's key depends only on its own tokens (and the connector's namespace), not on what comes before it,
 * so a document's KV stored from one prompt is found again in another prompt at another position; it is
 * stored with the position its KV was computed at ({@link SegmentMatch#cachedStart()}), and the engine moves
 * it to the new position (for RoPE models, one more rotation of K) and recomputes what depends on the other
 * segments. Any length of at least one token.
 *
 * @param start the segment's first token in the prompt
 * @param end   one past its last token
 */
public record KvSegment(int start, int end) {

    public KvSegment {
        if (start < 0 || end <= start) {
            throw new IllegalArgumentException("segment [" + start + ", " + end + ") (expected: 0 <= start < end)");
        }
    }

    /** Tokens in the segment. */
    public int length() {
        return end - start;
    }

    /**
     * The segments of a prompt whose parts are separated by {@code separator} (LMCache's {@code blend_special_str}):
     * the non-empty spans before each occurrence, in order, separators excluded. What follows the last separator
     * (the question: the part that is new in every prompt) is not a segment. Occurrences do not overlap; the
     * search goes on after each one.
     *
     * @throws IllegalArgumentException when {@code tokens} or {@code separator} is null or the separator is empty
     */
    public static List<KvSegment> between(int[] tokens, int[] separator) {
        if (tokens == null || separator == null || separator.length == 0) {
            throw new IllegalArgumentException("tokens and separator: " + (tokens == null ? "null" : tokens.length + " tokens")
                    + ", " + (separator == null ? "null" : separator.length + " tokens") + " (expected: a prompt and a non-empty separator)");
        }
        List<KvSegment> segments = new java.util.ArrayList<>();
        int start = 0;
        for (int i = 0; i + separator.length <= tokens.length; ) {
            if (java.util.Arrays.equals(tokens, i, i + separator.length, separator, 0, separator.length)) {
                if (i > start) {
                    segments.add(new KvSegment(start, i));
                }
                i += separator.length;
                start = i;
            } else {
                i++;
            }
        }
        return List.copyOf(segments);
    }

    /**
     * Checks {@code segments} of a prompt of {@code promptTokens} tokens: not null, in order, not overlapping,
     * each inside the prompt.
     *
     * @throws IllegalArgumentException naming the first bad segment, its index and what was expected
     */
    public static void requireWellFormed(List<KvSegment> segments, int promptTokens) {
        if (segments == null) {
            throw new IllegalArgumentException("segments: null (expected: a list, possibly empty)");
        }
        int previousEnd = 0;
        for (int i = 0; i < segments.size(); i++) {
            KvSegment s = segments.get(i);
            if (s == null) {
                throw new IllegalArgumentException("segments[" + i + "]: null (expected: a segment)");
            }
            if (s.end > promptTokens) {
                throw new IllegalArgumentException("segments[" + i + "]: [" + s.start + ", " + s.end + ") ends after the prompt's "
                        + promptTokens + " tokens (expected: end <= " + promptTokens + ")");
            }
            if (s.start < previousEnd) {
                throw new IllegalArgumentException("segments[" + i + "]: [" + s.start + ", " + s.end + ") overlaps or precedes"
                        + " segments[" + (i - 1) + "], which ends at " + previousEnd
                        + " (expected: segments in prompt order, not overlapping)");
            }
            previousEnd = s.end;
        }
    }
}
