package org.lmcache4j.examples.gguf;

import java.util.Optional;

/**
 * A ggml tensor element type: its id in a GGUF file, the elements per block and the bytes per block.
 * Every type here can be located in a file; {@link #decodable()} says which ones this reader converts to
 * floats (F32, F16, BF16, Q8_0).
 */
public enum GgmlType {
    F32(0, 1, 4),
    F16(1, 1, 2),
    Q4_0(2, 32, 18),
    Q4_1(3, 32, 20),
    Q5_0(6, 32, 22),
    Q5_1(7, 32, 24),
    Q8_0(8, 32, 34),
    Q8_1(9, 32, 36),
    Q2_K(10, 256, 84),
    Q3_K(11, 256, 110),
    Q4_K(12, 256, 144),
    Q5_K(13, 256, 176),
    Q6_K(14, 256, 210),
    Q8_K(15, 256, 292),
    I8(24, 1, 1),
    I16(25, 1, 2),
    I32(26, 1, 4),
    I64(27, 1, 8),
    F64(28, 1, 8),
    BF16(30, 1, 2);

    private final int id;
    private final int blockElements;
    private final int blockBytes;

    GgmlType(int id, int blockElements, int blockBytes) {
        this.id = id;
        this.blockElements = blockElements;
        this.blockBytes = blockBytes;
    }

    /** The type's id in a GGUF tensor info. */
    public int id() {
        return id;
    }

    /** Elements per quantization block (1 for plain types). */
    public int blockElements() {
        return blockElements;
    }

    /** Bytes of {@code elements} elements; {@code elements} must be a multiple of the block size. */
    public long bytes(long elements) {
        if (elements % blockElements != 0) {
            throw new IllegalArgumentException("elements: " + elements + " (expected: a multiple of " + blockElements
                    + " for " + this + ")");
        }
        return elements / blockElements * blockBytes;
    }

    /** True for the types {@link GgufTensor#readRow} converts to floats. */
    public boolean decodable() {
        return this == F32 || this == F16 || this == BF16 || this == Q8_0;
    }

    /** The type of a GGUF id, or empty for an id this reader does not know. */
    public static Optional<GgmlType> ofId(int id) {
        for (GgmlType t : values()) {
            if (t.id == id) {
                return Optional.of(t);
            }
        }
        return Optional.empty();
    }
}
