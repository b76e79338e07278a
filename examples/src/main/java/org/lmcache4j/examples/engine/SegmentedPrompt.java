package org.lmcache4j.examples.engine;

import java.util.ArrayList;
import java.util.List;
import org.lmcache4j.api.KvSegment;

/**
 * A prompt made of parts that are each cached on their own (a system prompt, documents) followed by a new tail (the
 * question), with the segments {@link LlamaEngine#generateBlended} takes.
 *
 * @param tokens   the parts and the tail, concatenated
 * @param segments one per part, in order
 */
public record SegmentedPrompt(int[] tokens, List<KvSegment> segments) {

    /** {@code parts} (each a segment) then {@code tail} (not one). */
    public static SegmentedPrompt of(List<int[]> parts, int[] tail) {
        int[] tokens = new int[parts.stream().mapToInt(p -> p.length).sum() + tail.length];
        List<KvSegment> segments = new ArrayList<>(parts.size());
        int at = 0;
        for (int[] p : parts) {
            System.arraycopy(p, 0, tokens, at, p.length);
            segments.add(new KvSegment(at, at + p.length));
            at += p.length;
        }
        System.arraycopy(tail, 0, tokens, at, tail.length);
        return new SegmentedPrompt(tokens, List.copyOf(segments));
    }
}
