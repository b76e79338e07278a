package org.lmcache4j.examples.gguf;

import java.util.List;
import java.util.Objects;

/**
 * One typed GGUF metadata value. Integers of every width are held as {@link Long}, floats as
 * {@link Double}, arrays as a list of such values with one {@code elementType}.
 *
 * @param type        the value's GGUF type
 * @param value       {@code Long}, {@code Double}, {@code Boolean}, {@code String} or {@code List<Object>}
 * @param elementType the element type of an array; null otherwise
 */
public record GgufValue(Type type, Object value, Type elementType) {

    /** GGUF metadata value types, by their id in the file. */
    public enum Type {
        UINT8(0, 1), INT8(1, 1), UINT16(2, 2), INT16(3, 2), UINT32(4, 4), INT32(5, 4), FLOAT32(6, 4), BOOL(7, 1),
        STRING(8, 0), ARRAY(9, 0), UINT64(10, 8), INT64(11, 8), FLOAT64(12, 8);

        private final int id;
        private final int sizeBytes;

        Type(int id, int sizeBytes) {
            this.id = id;
            this.sizeBytes = sizeBytes;
        }

        /** The id written in the file. */
        public int id() {
            return id;
        }

        /** Bytes of a scalar of this type; 0 for strings and arrays. */
        int sizeBytes() {
            return sizeBytes;
        }

        boolean integral() {
            return this == UINT8 || this == INT8 || this == UINT16 || this == INT16 || this == UINT32 || this == INT32
                    || this == UINT64 || this == INT64;
        }

        static Type ofId(long id) {
            for (Type t : values()) {
                if (t.id == id) {
                    return t;
                }
            }
            throw new IllegalArgumentException("GGUF value type: " + id + " (expected: 0 to 12)");
        }
    }

    public GgufValue {
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(value, "value");
        if ((type == Type.ARRAY) != (elementType != null)) {
            throw new IllegalArgumentException("elementType: " + elementType + " (expected: set for arrays only)");
        }
    }

    public static GgufValue u32(long v) {
        return new GgufValue(Type.UINT32, v, null);
    }

    public static GgufValue f32(double v) {
        return new GgufValue(Type.FLOAT32, v, null);
    }

    public static GgufValue string(String v) {
        return new GgufValue(Type.STRING, v, null);
    }

    public static GgufValue bool(boolean v) {
        return new GgufValue(Type.BOOL, v, null);
    }

    public static GgufValue strings(List<String> v) {
        return new GgufValue(Type.ARRAY, List.<Object>copyOf(v), Type.STRING);
    }

    /** The value as a long; for any integral type. */
    public long asLong() {
        if (!type.integral()) {
            throw new IllegalStateException("GGUF value of type " + type + " (expected: an integer)");
        }
        return (Long) value;
    }

    /** The value as a double; for integral and floating types. */
    public double asDouble() {
        if (type == Type.FLOAT32 || type == Type.FLOAT64) {
            return (Double) value;
        }
        return asLong();
    }

    /** The value as a string. */
    public String asString() {
        if (type != Type.STRING) {
            throw new IllegalStateException("GGUF value of type " + type + " (expected: STRING)");
        }
        return (String) value;
    }

    /** The elements of an array. */
    public List<?> asList() {
        if (type != Type.ARRAY) {
            throw new IllegalStateException("GGUF value of type " + type + " (expected: ARRAY)");
        }
        return (List<?>) value;
    }
}
