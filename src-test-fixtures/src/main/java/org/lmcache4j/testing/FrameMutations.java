package org.lmcache4j.testing;

import java.util.Arrays;
import org.lmcache4j.testing.PropertyCheck.Gen;

/**
 * Damage for encoded chunk frames: bit flips, truncations, extensions, fields set to extreme values or
 * swapped (with the frame's checksum fixed up or not), random bytes. Each result says what was done.
 */
public final class FrameMutations {

    /** Values a damaged length field takes: the edges, and lengths far beyond any buffer. */
    private static final long[] EXTREME_LONGS = {0, 1, -1, Integer.MAX_VALUE, 1L << 31, 1L << 32, 1L << 40, Long.MAX_VALUE,
        Long.MIN_VALUE};
    private static final int[] EXTREME_INTS = {0, 1, -1, 15, 16, 17, 63, 64, 65, 68, 180, 181, Integer.MAX_VALUE,
        Integer.MIN_VALUE, 1 << 30};

    private FrameMutations() {
    }

    /** A frame and what was done to it. */
    public record Mutated(byte[] bytes, String what) {
    }

    /** A field of a frame: where it is and how wide (4 or 8 bytes). */
    public record Field(String name, int offset, int width) {
    }

    /**
     * {@code valid} damaged one way or another, or now and then untouched. {@code fields} are the
     * frame's integer fields; {@code frameFrom} and {@code frameLength} the span its checksum (in its last
     * four bytes) covers.
     */
    public static Mutated mutate(Gen gen, byte[] valid, Field[] fields, int frameFrom, int frameLength) {
        byte[] b = valid.clone();
        // weights: field edits most, since only they get past the checksum to the checks behind it
        int roll = gen.between(0, 99);
        int kind = roll < 6 ? 0 : roll < 18 ? 1 : roll < 26 ? 2 : roll < 34 ? 3 : roll < 40 ? 4 : roll < 75 ? 5 : roll < 85 ? 7 : roll < 93 ? 8 : 9;
        switch (kind) {
            case 0 -> {
                return new Mutated(b, "untouched");
            }
            case 1 -> {
                StringBuilder what = new StringBuilder("bits flipped at");
                for (int n = gen.between(1, 3); n > 0 && b.length > 0; n--) {
                    int bit = gen.between(0, 8 * b.length - 1);
                    b[bit / 8] ^= (byte) (1 << (bit % 8));
                    what.append(' ').append(bit);
                }
                return new Mutated(b, what.toString());
            }
            case 2 -> {
                int at = frameFrom + gen.between(0, frameLength - 1);
                b[at] ^= (byte) gen.between(1, 255);
                return new Mutated(b, "frame byte " + at + " changed");
            }
            case 3 -> {
                int length = gen.between(0, Math.max(0, b.length - 1));
                return new Mutated(Arrays.copyOf(b, length), "truncated to " + length);
            }
            case 4 -> {
                byte[] more = gen.bytes(gen.between(1, 64));
                byte[] c = Arrays.copyOf(b, b.length + more.length);
                System.arraycopy(more, 0, c, b.length, more.length);
                return new Mutated(c, "extended by " + more.length);
            }
            case 5 -> {
                Field f = gen.oneOf(fields);
                boolean fix = gen.chance(0.8);
                long v;
                if (f.width() == 8) {
                    v = gen.chance(0.7) ? gen.oneOf(box(EXTREME_LONGS)) : ReferenceChunkFrames.longAt(b, f.offset()) + gen.between(-3, 3);
                    ReferenceChunkFrames.putLong(b, f.offset(), v);
                } else {
                    v = gen.chance(0.7) ? gen.oneOf(box(EXTREME_INTS)) : ReferenceChunkFrames.intAt(b, f.offset()) + gen.between(-3, 3);
                    ReferenceChunkFrames.putInt(b, f.offset(), (int) v);
                }
                if (fix) {
                    ReferenceChunkFrames.fixChecksum(b, frameFrom, frameLength);
                }
                return new Mutated(b, f.name() + " set to " + v + (fix ? ", checksum fixed" : ""));
            }
            case 7 -> {
                Field f = gen.oneOf(fields);
                Field g = gen.oneOf(fields);
                int width = Math.min(f.width(), g.width());
                byte[] x = Arrays.copyOfRange(b, f.offset(), f.offset() + width);
                System.arraycopy(b, g.offset(), b, f.offset(), width);
                System.arraycopy(x, 0, b, g.offset(), width);
                boolean fix = gen.chance(0.7);
                if (fix) {
                    ReferenceChunkFrames.fixChecksum(b, frameFrom, frameLength);
                }
                return new Mutated(b, f.name() + " swapped with " + g.name() + (fix ? ", checksum fixed" : ""));
            }
            case 8 -> {
                byte[] r = gen.bytes(gen.size(300));
                if (gen.chance(0.5) && r.length >= 16) { // get past the magic and version
                    System.arraycopy(valid, frameFrom, r, 0, 16);
                }
                return new Mutated(r, "random bytes (" + r.length + ")");
            }
            default -> {
                if (b.length > frameFrom + frameLength) {
                    int at = gen.between(frameFrom + frameLength, b.length - 1);
                    b[at] ^= (byte) gen.between(1, 255);
                    return new Mutated(b, "byte " + at + " after the frame changed");
                }
                return new Mutated(b, "untouched (nothing after the frame)");
            }
        }
    }

    private static Long[] box(long[] values) {
        return Arrays.stream(values).boxed().toArray(Long[]::new);
    }

    private static Long[] box(int[] values) {
        return Arrays.stream(values).mapToLong(i -> i).boxed().toArray(Long[]::new);
    }

    /** The fields of the chunk header at the start of {@code frame} (a disk file or a remote value), by the format's table. */
    public static Field[] chunkHeaderFields(byte[] frame) {
        int k = ReferenceChunkFrames.intAt(frame, 24);
        int end = ReferenceChunkFrames.intAt(frame, 12);
        int p = ReferenceChunkFrames.intAt(frame, 28 + k);
        if (end - k - p == 64) { // the layout with codec id and logical length
            return new Field[] {
                new Field("version", 8, 4),
                new Field("header length", 12, 4),
                new Field("fingerprint", 16, 8),
                new Field("key length", 24, 4),
                new Field("key bytes", 28, 8),
                new Field("parent length", 28 + k, 4),
                new Field("codec id", 32 + k + p, 4),
                new Field("logical length", 36 + k + p, 8),
                new Field("token count", end - ReferenceChunkFrames.TOKENS_FROM_END, 4),
                new Field("payload length", end - ReferenceChunkFrames.PAYLOAD_LENGTH_FROM_END, 8),
                new Field("payload checksum", end - ReferenceChunkFrames.PAYLOAD_CRC_FROM_END, 4),
            };
        }
        return new Field[] {
            new Field("version", 8, 4),
            new Field("header length", 12, 4),
            new Field("fingerprint", 16, 8),
            new Field("key length", 24, 4),
            new Field("key bytes", 28, 8),
            new Field("parent length", 28 + k, 4),
            new Field("token count", end - ReferenceChunkFrames.TOKENS_FROM_END, 4),
            new Field("payload length", end - ReferenceChunkFrames.PAYLOAD_LENGTH_FROM_END, 8),
            new Field("payload checksum", end - ReferenceChunkFrames.PAYLOAD_CRC_FROM_END, 4),
        };
    }
}
