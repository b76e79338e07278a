package org.lmcache4j.examples.gguf;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * A GGUF file (versions 2 and 3) mapped read-only: its metadata and its tensors, whose bytes stay in the
 * mapping until {@link #close()}. Layout: magic {@code GGUF}, version, tensor count, metadata count,
 * the metadata key/value pairs, the tensor infos (name, dims, type, offset), then the tensor data at
 * {@code general.alignment} (default 32) relative to the aligned start of the data section.
 */
public final class GgufFile implements AutoCloseable {

    static final int MAGIC = 0x46554747; // "GGUF" little-endian
    static final int DEFAULT_ALIGNMENT = 32;

    private final Path path;
    private final Arena arena;
    private final int version;
    private final Map<String, GgufValue> metadata;
    private final Map<String, GgufTensor> tensors;

    private GgufFile(Path path, Arena arena, int version, Map<String, GgufValue> metadata, Map<String, GgufTensor> tensors) {
        this.path = path;
        this.arena = arena;
        this.version = version;
        this.metadata = Collections.unmodifiableMap(metadata);
        this.tensors = Collections.unmodifiableMap(tensors);
    }

    /**
     * Maps and parses {@code path}.
     *
     * @throws IOException              when the file cannot be read
     * @throws IllegalArgumentException when it is not a well-formed GGUF file (the message says where)
     */
    public static GgufFile open(Path path) throws IOException {
        Arena arena = Arena.ofShared();
        boolean ok = false;
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            MemorySegment file = ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), arena);
            GgufFile parsed = parse(path, arena, file);
            ok = true;
            return parsed;
        } finally {
            if (!ok) {
                arena.close();
            }
        }
    }

    private static GgufFile parse(Path path, Arena arena, MemorySegment file) {
        GgufCursor in = new GgufCursor(file, path.toString());
        int magic = in.i32();
        if (magic != MAGIC) {
            throw new IllegalArgumentException(path + ": magic 0x" + Integer.toHexString(magic) + " (expected: 0x46554747, 'GGUF')");
        }
        int version = in.i32();
        if (version != 2 && version != 3) {
            throw new IllegalArgumentException(path + ": GGUF version " + version + " (expected: 2 or 3)");
        }
        long tensorCount = in.count("tensor count");
        long kvCount = in.count("metadata count");
        Map<String, GgufValue> metadata = new LinkedHashMap<>();
        for (long i = 0; i < kvCount; i++) {
            String key = in.string();
            metadata.put(key, in.value(GgufValue.Type.ofId(in.u32())));
        }
        int alignment = Optional.ofNullable(metadata.get("general.alignment")).map(v -> (int) v.asLong()).orElse(DEFAULT_ALIGNMENT);
        if (alignment <= 0 || Integer.bitCount(alignment) != 1) {
            throw new IllegalArgumentException(path + ": general.alignment " + alignment + " (expected: a power of two)");
        }
        record Info(String name, long[] dims, GgmlType type, long offset) {
        }
        Map<String, Info> infos = new LinkedHashMap<>();
        for (long i = 0; i < tensorCount; i++) {
            String name = in.string();
            int nDims = (int) in.u32();
            if (nDims < 1 || nDims > 4) {
                throw new IllegalArgumentException(path + ": tensor " + name + " has " + nDims + " dims (expected: 1 to 4)");
            }
            long[] dims = new long[nDims];
            for (int d = 0; d < nDims; d++) {
                dims[d] = in.count("dim of " + name);
            }
            int typeId = (int) in.u32();
            GgmlType type = GgmlType.ofId(typeId).orElseThrow(() -> new IllegalArgumentException(
                    path + ": tensor " + name + " has ggml type " + typeId + " (expected: a known ggml type)"));
            infos.put(name, new Info(name, dims, type, in.u64()));
        }
        long dataStart = align(in.position(), alignment);
        Map<String, GgufTensor> tensors = new LinkedHashMap<>();
        for (Info info : infos.values()) {
            long elements = 1;
            for (long d : info.dims) {
                elements = Math.multiplyExact(elements, d);
            }
            long bytes = info.type.bytes(elements);
            long start = dataStart + info.offset;
            if (info.offset % alignment != 0 || start + bytes > file.byteSize()) {
                throw new IllegalArgumentException(path + ": tensor " + info.name + " at offset " + info.offset + " with "
                        + bytes + " bytes (expected: aligned to " + alignment + " and inside the file of " + file.byteSize() + " bytes)");
            }
            tensors.put(info.name, new GgufTensor(info.name, info.dims, info.type, file.asSlice(start, bytes)));
        }
        return new GgufFile(path, arena, version, metadata, tensors);
    }

    static long align(long position, int alignment) {
        return (position + alignment - 1) / alignment * alignment;
    }

    public Path path() {
        return path;
    }

    public int version() {
        return version;
    }

    /** Every metadata entry, in file order. */
    public Map<String, GgufValue> metadata() {
        return metadata;
    }

    /** Every tensor by name, in file order. */
    public Map<String, GgufTensor> tensors() {
        return tensors;
    }

    /**
     * The hex SHA-256 of every tensor in file order (name, type, dims and data bytes): what the weights
     * are, independent of the file's name and metadata. The reference engine's cache model id carries it,
     * so KV computed by other weights is never served (a fine-tune keeps its base model's shapes).
     */
    public String tensorDigest() {
        java.security.MessageDigest sha;
        try {
            sha = java.security.MessageDigest.getInstance("SHA-256");
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required by every Java platform", e);
        }
        java.nio.ByteBuffer header = java.nio.ByteBuffer.allocate(64).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        for (GgufTensor t : tensors.values()) {
            byte[] name = t.name().getBytes(java.nio.charset.StandardCharsets.UTF_8);
            header.clear().putInt(name.length);
            sha.update(header.flip());
            sha.update(name);
            header.clear().putInt(t.type().id()).putInt(t.dims().length);
            for (long d : t.dims()) {
                header.putLong(d);
            }
            sha.update(header.flip());
            java.lang.foreign.MemorySegment data = t.data();
            for (long off = 0; off < data.byteSize(); off += 1 << 30) {
                sha.update(data.asSlice(off, Math.min(1L << 30, data.byteSize() - off)).asByteBuffer());
            }
        }
        return java.util.HexFormat.of().formatHex(sha.digest());
    }

    /** The tensor called {@code name}, or empty. */
    public Optional<GgufTensor> tensor(String name) {
        return Optional.ofNullable(tensors.get(name));
    }

    /** The tensor called {@code name}; fails naming the file when it is missing. */
    public GgufTensor requireTensor(String name) {
        return tensor(name).orElseThrow(() -> new IllegalArgumentException(path + ": no tensor " + name));
    }

    /** The metadata value of {@code key}, or empty. */
    public Optional<GgufValue> value(String key) {
        return Optional.ofNullable(metadata.get(key));
    }

    /** The metadata value of {@code key}; fails naming the file when it is missing. */
    public GgufValue require(String key) {
        return value(key).orElseThrow(() -> new IllegalArgumentException(path + ": no metadata " + key));
    }

    /** Unmaps the file; tensors read afterwards fail. Idempotent. */
    @Override
    public void close() {
        if (arena.scope().isAlive()) {
            arena.close();
        }
    }
}
