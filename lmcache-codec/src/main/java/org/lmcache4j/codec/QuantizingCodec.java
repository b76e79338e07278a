package org.lmcache4j.codec;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import org.lmcache4j.api.KvLayout;
import org.lmcache4j.api.spi.CorruptEncodingException;
import org.lmcache4j.api.spi.KvCodec;

/**
 * What the quantizing codecs share: argument checks, the encoded frame
 * ({@link QuantizedHeader header}, fp32 scales, one-byte codes in the chunk's element order) and its
 * validation before a single byte of the destination is written. Subclasses say how many scales a chunk
 * has and how elements become codes and back.
 *
 * <p>A chunk holding a NaN or an infinity is not quantized ({@link #encode} returns -1: the tier stores it
 * raw, exactly): a scale cannot cover it, and a cache must not turn one bad value into a row of them.
 */
abstract sealed class QuantizingCodec implements KvCodec permits Int8Codec, Fp8E4m3Codec {

    /** Scales are little-endian fp32, as the chunk bytes. */
    static final ValueLayout.OfFloat SCALE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** The most elements of one (plane, layer) block: its tokens' rows are quantized in one Java array. */
    private static final long MAX_BLOCK_ELEMENTS = Integer.MAX_VALUE - 8;

    private final int magic;

    QuantizingCodec(int magic) {
        this.magic = magic;
    }

    @Override
    public final boolean lossy() {
        return true;
    }

    @Override
    public final boolean supports(KvLayout layout) {
        return FloatElements.isFloat(layout.dtype());
    }

    @Override
    public final long maxEncodedBytes(KvLayout layout, long logicalBytes) {
        requireSupported(layout);
        return encodedBytes(layout, tokensOf(layout, logicalBytes, "logicalBytes"));
    }

    @Override
    public final long encode(KvLayout layout, MemorySegment src, MemorySegment dst) {
        requireSupported(layout);
        int tokens = tokensOf(layout, src.byteSize(), "src");
        long encodedBytes = encodedBytes(layout, tokens);
        if (dst.byteSize() < encodedBytes) {
            throw new IllegalArgumentException("dst: " + dst.byteSize() + " bytes (expected: at least " + encodedBytes
                    + ", maxEncodedBytes of " + tokens + " tokens for codec " + name() + ")");
        }
        long scaleBytes = Float.BYTES * scaleCount(layout, tokens);
        MemorySegment scales = dst.asSlice(QuantizedHeader.BYTES, scaleBytes);
        MemorySegment codes = dst.asSlice(QuantizedHeader.BYTES + scaleBytes, codeCount(layout, tokens));
        if (!quantize(layout, tokens, src, scales, codes)) {
            return -1;
        }
        QuantizedHeader.write(magic, layout, tokens, dst);
        return encodedBytes;
    }

    @Override
    public final void decode(KvLayout layout, MemorySegment encoded, MemorySegment dst) {
        requireSupported(layout);
        int tokens = tokensOf(layout, dst.byteSize(), "dst");
        QuantizedHeader.check(name(), magic, layout, tokens, encodedBytes(layout, tokens), encoded);
        long scaleCount = scaleCount(layout, tokens);
        MemorySegment scales = encoded.asSlice(QuantizedHeader.BYTES, Float.BYTES * scaleCount);
        for (long i = 0; i < scaleCount; i++) {
            float scale = scales.getAtIndex(SCALE, i);
            if (!(scale >= 0f && scale <= Float.MAX_VALUE)) {
                throw new CorruptEncodingException("codec " + name() + ": encoded chunk scale " + i + " is " + scale
                        + " (expected: finite and >= 0)");
            }
        }
        MemorySegment codes = encoded.asSlice(QuantizedHeader.BYTES + Float.BYTES * scaleCount);
        dequantize(layout, tokens, scales, codes, dst);
    }

    /** How many fp32 scales a chunk of {@code tokens} tokens of {@code layout} carries. */
    abstract long scaleCount(KvLayout layout, int tokens);

    /**
     * Writes the scales and codes of the chunk {@code src} of {@code tokens} tokens (whose layout's dtype is
     * supported), or returns false, with {@code scales} and {@code codes} partly written, when it holds a NaN
     * or an infinity.
     */
    abstract boolean quantize(KvLayout layout, int tokens, MemorySegment src, MemorySegment scales, MemorySegment codes);

    /** Writes the chunk that validated {@code scales} and {@code codes} encode into {@code dst}. */
    abstract void dequantize(KvLayout layout, int tokens, MemorySegment scales, MemorySegment codes, MemorySegment dst);

    /** The bytes of the encoding of {@code tokens} tokens of {@code layout}: header, scales, codes. */
    final long encodedBytes(KvLayout layout, int tokens) {
        return QuantizedHeader.BYTES + Float.BYTES * scaleCount(layout, tokens) + codeCount(layout, tokens);
    }

    private static long codeCount(KvLayout layout, int tokens) {
        return (long) layout.planes() * layout.numLayers() * tokens * layout.tokenDim();
    }

    private void requireSupported(KvLayout layout) {
        if (!supports(layout)) {
            throw new IllegalArgumentException("codec " + name() + ": layout dtype " + layout.dtype()
                    + " (expected: FP32, FP16 or BF16; it quantizes float input)");
        }
    }

    private int tokensOf(KvLayout layout, long bytes, String what) {
        long perToken = layout.bytesPerToken();
        long maxTokens = MAX_BLOCK_ELEMENTS / layout.tokenDim(); // a (plane, layer) block is quantized in one array
        if (bytes < 0 || bytes % perToken != 0 || bytes / perToken > maxTokens) {
            throw new IllegalArgumentException("codec " + name() + ": " + what + " " + bytes + " bytes (expected: whole tokens of "
                    + perToken + " bytes, at most " + maxTokens + " of them)");
        }
        return (int) (bytes / perToken);
    }
}
