package org.lmcache4j.examples.model;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Locale;
import java.util.SplittableRandom;
import org.lmcache4j.examples.gguf.GgmlType;
import org.lmcache4j.examples.gguf.GgufValue;
import org.lmcache4j.examples.gguf.GgufWriter;

/**
 * Writes a model of a given shape with deterministic random weights as a GGUF file in llama.cpp's
 * layout: {@code token_embd.weight}, {@code blk.N.attn_norm/attn_q/attn_k/attn_v/attn_output/ffn_norm/
 * ffn_gate/ffn_up/ffn_down.weight}, {@code output_norm.weight}, and {@code <arch>.*} metadata. The output
 * is tied to the embedding (as in all the shapes of {@link ModelSize}), so there is no {@code output.weight}.
 *
 * <p>Each tensor's values come from a {@link SplittableRandom} seeded by the model seed and the tensor's
 * name: the same seed gives the same file on every machine. Matrices are uniform with variance
 * {@code 1 / fan-in} (activations keep their scale through the layers), norms are {@code 1 +- 0.1},
 * embeddings have standard deviation 0.02 (the published models' initializer range), so that through the
 * tied output the logits depend on what the layers computed rather than echo the last input token.
 * One-dimensional tensors are F32, as llama.cpp writes them.
 */
public final class SeededModel {

    private static final double EMBEDDING_STD = 0.02;

    private SeededModel() {
    }

    /** The file name under which {@link #cached} keeps a generated model. */
    public static String fileName(ModelShape shape, long seed, GgmlType type) {
        return shape.name() + "-seed" + seed + "-" + type.name().toLowerCase(Locale.ROOT) + ".gguf";
    }

    /**
     * The generated model in {@code directory}, written there first if it is missing: written under a
     * temporary name and renamed, so an interrupted run never leaves a half-written model behind.
     */
    public static Path cached(ModelShape shape, long seed, GgmlType type, Path directory) throws IOException {
        Files.createDirectories(directory);
        Path file = directory.resolve(fileName(shape, seed, type));
        if (Files.isRegularFile(file)) {
            return file;
        }
        Path tmp = Files.createTempFile(directory, fileName(shape, seed, type), ".tmp");
        try {
            write(shape, seed, type, tmp);
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(tmp);
        }
        return file;
    }

    /** Writes the model to {@code file}; matrices as {@code type}, vectors as F32. */
    public static void write(ModelShape s, long seed, GgmlType type, Path file) throws IOException {
        String a = s.architecture() + ".";
        GgufWriter w = new GgufWriter()
                .put("general.architecture", GgufValue.string(s.architecture()))
                .put("general.name", GgufValue.string(s.name()))
                .put("general.file_type", GgufValue.u32(fileType(type)))
                .put("lmcache4j.seed", GgufValue.u32(seed & 0xffffffffL))
                .put(a + "context_length", GgufValue.u32(s.contextLength()))
                .put(a + "embedding_length", GgufValue.u32(s.dim()))
                .put(a + "block_count", GgufValue.u32(s.layers()))
                .put(a + "feed_forward_length", GgufValue.u32(s.hiddenDim()))
                .put(a + "attention.head_count", GgufValue.u32(s.heads()))
                .put(a + "attention.head_count_kv", GgufValue.u32(s.kvHeads()))
                .put(a + "attention.key_length", GgufValue.u32(s.headDim()))
                .put(a + "attention.value_length", GgufValue.u32(s.headDim()))
                .put(a + "rope.dimension_count", GgufValue.u32(s.headDim()))
                .put(a + "rope.freq_base", GgufValue.f32(s.ropeTheta()))
                .put(a + "attention.layer_norm_rms_epsilon", GgufValue.f32(s.rmsEps()))
                .put(a + "vocab_size", GgufValue.u32(s.vocabSize()));
        w.tensor("token_embd.weight", dims(s.dim(), s.vocabSize()), type, uniform(seed, "token_embd.weight", EMBEDDING_STD * Math.sqrt(3)));
        for (int l = 0; l < s.layers(); l++) {
            String b = "blk." + l + ".";
            w.tensor(b + "attn_norm.weight", dims(s.dim()), GgmlType.F32, norm(seed, b + "attn_norm.weight"));
            matrix(w, seed, b + "attn_q.weight", s.dim(), s.qDim(), type);
            matrix(w, seed, b + "attn_k.weight", s.dim(), s.kvDim(), type);
            matrix(w, seed, b + "attn_v.weight", s.dim(), s.kvDim(), type);
            if (s.qkvBias()) {
                w.tensor(b + "attn_q.bias", dims(s.qDim()), GgmlType.F32, uniform(seed, b + "attn_q.bias", 0.1));
                w.tensor(b + "attn_k.bias", dims(s.kvDim()), GgmlType.F32, uniform(seed, b + "attn_k.bias", 0.1));
                w.tensor(b + "attn_v.bias", dims(s.kvDim()), GgmlType.F32, uniform(seed, b + "attn_v.bias", 0.1));
            }
            matrix(w, seed, b + "attn_output.weight", s.qDim(), s.dim(), type);
            w.tensor(b + "ffn_norm.weight", dims(s.dim()), GgmlType.F32, norm(seed, b + "ffn_norm.weight"));
            matrix(w, seed, b + "ffn_gate.weight", s.dim(), s.hiddenDim(), type);
            matrix(w, seed, b + "ffn_up.weight", s.dim(), s.hiddenDim(), type);
            matrix(w, seed, b + "ffn_down.weight", s.hiddenDim(), s.dim(), type);
        }
        w.tensor("output_norm.weight", dims(s.dim()), GgmlType.F32, norm(seed, "output_norm.weight"));
        w.write(file);
    }

    private static void matrix(GgufWriter w, long seed, String name, int in, int out, GgmlType type) {
        w.tensor(name, dims(in, out), type, uniform(seed, name, Math.sqrt(3.0 / in)));
    }

    private static long[] dims(long... d) {
        return d;
    }

    /** Rows of uniform values in [-bound, bound), one random stream per tensor. */
    private static GgufWriter.RowSource uniform(long seed, String name, double bound) {
        SplittableRandom random = stream(seed, name);
        return (row, dst) -> {
            for (int i = 0; i < dst.length; i++) {
                dst[i] = (float) ((random.nextDouble() * 2 - 1) * bound);
            }
        };
    }

    private static GgufWriter.RowSource norm(long seed, String name) {
        SplittableRandom random = stream(seed, name);
        return (row, dst) -> {
            for (int i = 0; i < dst.length; i++) {
                dst[i] = (float) (1 + (random.nextDouble() * 2 - 1) * 0.1);
            }
        };
    }

    /** A stream that depends on the seed and the name only (String.hashCode is specified, so stable). */
    private static SplittableRandom stream(long seed, String name) {
        return new SplittableRandom(seed * 0x9E3779B97F4A7C15L + name.hashCode());
    }

    /** llama.cpp's general.file_type for a model whose matrices are {@code type}. */
    private static long fileType(GgmlType type) {
        return switch (type) {
            case F32 -> 0;
            case F16 -> 1;
            case Q8_0 -> 7;
            case BF16 -> 32;
            default -> throw new IllegalArgumentException("type: " + type + " (expected: F32, F16, BF16 or Q8_0)");
        };
    }
}
