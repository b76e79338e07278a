package org.lmcache4j.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.lmcache4j.api.HostKvMemory;
import org.lmcache4j.api.KvLayout;

/**
 * Deterministic engine KV for tests: host KV memory allocated zeroed, filled with bytes that depend only
 * on the token prefix (as a real model's KV does), read back and compared bit for bit.
 *
 * <p>Implementation notes. The KV row of token {@code i} in {@code (layer, plane)} is a function of
 * {@code (h_i, layer, plane, byte index)} only, where {@code h_i} is a splitmix64 chain over tokens
 * {@code 0..i}: equal prefixes give equal KV wherever they sit in memory, and a different earlier token
 * changes every later row. Byte {@code b} of a row is byte {@code b % 8} (little-endian) of the word
 * {@code mix(rowSeed + (b / 8 + 1) * GOLDEN)}. Values are raw bits (they may be NaN as floats): the cache
 * copies bytes and must not care.
 */
public final class SeededKv {

    /** Exclusive upper bound of the token ids from {@link #tokens}. */
    public static final int VOCAB_SIZE = 32_000;

    private static final long GOLDEN = 0x9E3779B97F4A7C15L;
    private static final long PREFIX_ROOT = 0x6C6D63616368654AL; // "lmcacheJ"
    private static final ValueLayout.OfLong WORD = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final long SEGMENT_ALIGNMENT = 64;

    private SeededKv() {
    }

    /** A contiguous {@code [position][kvDim]} cache of {@code slots} rows per layer and plane, zeroed. */
    public static HostKvMemory contiguous(Arena arena, KvLayout layout, int slots) {
        if (slots < 0) {
            throw new IllegalArgumentException("slots: " + slots + " (expected: >= 0)");
        }
        List<MemorySegment> keys = allocate(arena, layout, slots);
        if (layout.mla()) {
            return HostKvMemory.mla(layout, slots, 1, keys);
        }
        return HostKvMemory.contiguous(layout, keys, allocate(arena, layout, slots));
    }

    /** A paged {@code [numBlocks][blockSize][kvDim]} cache per layer and plane, zeroed. */
    public static HostKvMemory paged(Arena arena, KvLayout layout, int numBlocks, int blockSize) {
        if (numBlocks < 0 || blockSize <= 0 || (long) numBlocks * blockSize > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("numBlocks: " + numBlocks + ", blockSize: " + blockSize
                    + " (expected: numBlocks >= 0, blockSize > 0, numBlocks * blockSize < 2^31)");
        }
        int slots = numBlocks * blockSize;
        List<MemorySegment> keys = allocate(arena, layout, slots);
        if (layout.mla()) {
            return HostKvMemory.mla(layout, slots, blockSize, keys);
        }
        return HostKvMemory.paged(layout, numBlocks, blockSize, keys, allocate(arena, layout, slots));
    }

    /**
     * A paged cache whose blocks are separate allocations ({@link HostKvMemory#blocks}), each of
     * {@code blockSize} rows per layer and plane, zeroed.
     */
    public static HostKvMemory blocks(Arena arena, KvLayout layout, int numBlocks, int blockSize) {
        List<List<MemorySegment>> planes = new ArrayList<>();
        for (int plane = 0; plane < layout.planes(); plane++) {
            for (int block = 0; block < Math.max(0, numBlocks); block++) {
                planes.add(allocate(arena, layout, blockSize));
            }
        }
        int perPlane = Math.max(0, numBlocks);
        return HostKvMemory.blocks(layout, numBlocks, blockSize,
                (layer, plane, block) -> planes.get(plane * perPlane + block).get(layer));
    }

    private static List<MemorySegment> allocate(Arena arena, KvLayout layout, int slots) {
        long bytes = (long) slots * layout.rowBytes();
        List<MemorySegment> segments = new ArrayList<>(layout.numLayers());
        for (int layer = 0; layer < layout.numLayers(); layer++) {
            MemorySegment s = arena.allocate(Math.max(1, bytes), SEGMENT_ALIGNMENT).asSlice(0, bytes);
            s.fill((byte) 0); // arenas of the JDK zero already; a custom Arena need not
            segments.add(s);
        }
        return segments;
    }

    /**
     * Writes the KV of {@code tokens[i]} into slot {@code slots[i]} of every layer and plane; a negative
     * slot skips the token (its KV is not written, but it still counts in the prefix of later tokens).
     */
    public static void fill(HostKvMemory kv, int[] tokens, int[] slots) {
        requireMapping(kv, tokens.length, slots, "slots");
        KvLayout layout = kv.layout();
        int rowBytes = layout.rowBytes();
        long prefix = PREFIX_ROOT;
        for (int i = 0; i < tokens.length; i++) {
            prefix = mix(prefix + (tokens[i] + 1L) * GOLDEN);
            if (slots[i] < 0) {
                continue;
            }
            long offset = kv.offsetOf(slots[i]);
            for (int layer = 0; layer < layout.numLayers(); layer++) {
                for (int plane = 0; plane < layout.planes(); plane++) {
                    writeRow(kv.segmentOf(layer, plane, slots[i]), offset, rowBytes, rowSeed(prefix, layer, plane));
                }
            }
        }
    }

    private static long rowSeed(long prefix, int layer, int plane) {
        return mix(prefix ^ mix(((long) layer << 8 | plane) * GOLDEN + PREFIX_ROOT));
    }

    private static void writeRow(MemorySegment plane, long offset, int rowBytes, long seed) {
        int words = rowBytes / Long.BYTES;
        for (int w = 0; w < words; w++) {
            plane.set(WORD, offset + (long) w * Long.BYTES, mix(seed + (w + 1L) * GOLDEN));
        }
        int tail = rowBytes - words * Long.BYTES;
        if (tail > 0) {
            long last = mix(seed + (words + 1L) * GOLDEN);
            for (int b = 0; b < tail; b++) {
                plane.set(ValueLayout.JAVA_BYTE, offset + (long) words * Long.BYTES + b, (byte) (last >>> (8 * b)));
            }
        }
    }

    /** splitmix64's finaliser. */
    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** A copy of the row of {@code slot} in {@code layer}, {@code plane} (0 = K or latent, 1 = V). */
    public static byte[] rowBytes(HostKvMemory kv, int layer, int plane, int slot) {
        requireSlot(kv, slot, "slot");
        return row(kv, layer, plane, slot).toArray(ValueLayout.JAVA_BYTE);
    }

    private static MemorySegment row(HostKvMemory kv, int layer, int plane, int slot) {
        return kv.segmentOf(layer, plane, slot).asSlice(kv.offsetOf(slot), kv.layout().rowBytes());
    }

    /**
     * Fails unless tokens {@code [fromToken, toToken)} hold the same KV in {@code a} (at {@code slotsA})
     * and {@code b} (at {@code slotsB}) in every layer and plane, naming the first differing token, layer,
     * plane and byte. Tokens whose slot is negative in either mapping are skipped.
     */
    public static void assertSameKv(HostKvMemory a, int[] slotsA, HostKvMemory b, int[] slotsB,
                                    int fromToken, int toToken) {
        assertEquals(a.layout(), b.layout(), "KV layouts");
        requireRange(fromToken, toToken, slotsA, "slotsA");
        requireRange(fromToken, toToken, slotsB, "slotsB");
        KvLayout layout = a.layout();
        for (int t = fromToken; t < toToken; t++) {
            int sa = slotsA[t];
            int sb = slotsB[t];
            if (sa < 0 || sb < 0) {
                continue;
            }
            requireSlot(a, sa, "slotsA[" + t + "]");
            requireSlot(b, sb, "slotsB[" + t + "]");
            for (int layer = 0; layer < layout.numLayers(); layer++) {
                for (int plane = 0; plane < layout.planes(); plane++) {
                    MemorySegment rowA = row(a, layer, plane, sa);
                    MemorySegment rowB = row(b, layer, plane, sb);
                    long at = rowA.mismatch(rowB);
                    if (at != -1) {
                        fail("KV differs at token " + t + " (slot " + sa + " vs " + sb + "), layer " + layer
                                + ", plane " + planeName(layout, plane) + ", byte " + at + ": "
                                + hex(rowA.get(ValueLayout.JAVA_BYTE, at)) + " vs "
                                + hex(rowB.get(ValueLayout.JAVA_BYTE, at)));
                    }
                }
            }
        }
    }

    /** True when every row of tokens {@code [from, to)} (negative slots skipped) is zero in all layers and planes. */
    public static boolean isZero(HostKvMemory kv, int[] slots, int from, int to) {
        requireRange(from, to, slots, "slots");
        KvLayout layout = kv.layout();
        MemorySegment zero = MemorySegment.ofArray(new byte[layout.rowBytes()]);
        for (int t = from; t < to; t++) {
            if (slots[t] < 0) {
                continue;
            }
            requireSlot(kv, slots[t], "slots[" + t + "]");
            for (int layer = 0; layer < layout.numLayers(); layer++) {
                for (int plane = 0; plane < layout.planes(); plane++) {
                    if (row(kv, layer, plane, slots[t]).mismatch(zero) != -1) {
                        return false;
                    }
                }
            }
        }
        return true;
    }

    /** {@code n} pseudo-random token ids in {@code [0, VOCAB_SIZE)}, equal for equal seeds. */
    public static int[] tokens(long seed, int n) {
        SplittableRandom random = new SplittableRandom(seed);
        int[] tokens = new int[n];
        for (int i = 0; i < n; i++) {
            tokens[i] = random.nextInt(VOCAB_SIZE);
        }
        return tokens;
    }

    /** The slot mapping {@code 0, 1, ..., n-1} of a contiguous cache. */
    public static int[] identitySlots(int n) {
        int[] slots = new int[n];
        for (int i = 0; i < n; i++) {
            slots[i] = i;
        }
        return slots;
    }

    /** {@code n} distinct slots drawn from {@code [0, numSlots)} in pseudo-random order, equal for equal seeds. */
    public static int[] shuffledSlots(long seed, int n, int numSlots) {
        if (n < 0 || n > numSlots) {
            throw new IllegalArgumentException("n: " + n + " (expected: 0 to numSlots = " + numSlots + ")");
        }
        int[] all = identitySlots(numSlots);
        SplittableRandom random = new SplittableRandom(seed);
        for (int i = 0; i < n; i++) {
            int j = i + random.nextInt(numSlots - i);
            int swap = all[i];
            all[i] = all[j];
            all[j] = swap;
        }
        return Arrays.copyOf(all, n);
    }

    private static String planeName(KvLayout layout, int plane) {
        return layout.mla() ? "latent" : plane == 0 ? "K" : "V";
    }

    private static String hex(byte b) {
        return String.format("0x%02x", b & 0xFF);
    }

    private static void requireMapping(HostKvMemory kv, int tokens, int[] slots, String what) {
        if (slots.length < tokens) {
            throw new IllegalArgumentException(what + ": " + slots.length + " entries (expected: at least " + tokens
                    + ", one per token)");
        }
        for (int i = 0; i < tokens; i++) {
            if (slots[i] >= 0) {
                requireSlot(kv, slots[i], what + "[" + i + "]");
            }
        }
    }

    private static void requireRange(int from, int to, int[] slots, String what) {
        if (from < 0 || from > to || to > slots.length) {
            throw new IllegalArgumentException("tokens [" + from + ", " + to + ") (expected: within the "
                    + slots.length + " entries of " + what + ")");
        }
    }

    private static void requireSlot(HostKvMemory kv, int slot, String what) {
        if (slot < 0 || slot >= kv.numSlots()) {
            throw new IllegalArgumentException(what + ": " + slot + " (expected: 0 to " + (kv.numSlots() - 1)
                    + ", the engine memory's slots)");
        }
    }
}
