package org.lmcache4j.examples.model;

import java.util.Arrays;
import java.util.List;
import java.util.stream.IntStream;
import org.lmcache4j.examples.engine.PackedMatrix;
import org.lmcache4j.examples.gguf.GgufFile;
import org.lmcache4j.examples.gguf.GgufTensor;

/**
 * A model's weights in the engine's form, read from a GGUF file and converted to F32: the token
 * embedding as rows, each layer's matrices packed for the matmul kernel (Q, K and V fused into one
 * matrix, gate and up into another), norms and biases as plain vectors, and the output matrix
 * ({@code output.weight}, or the embedding when the model ties them).
 */
public final class ModelWeights {

    /** One transformer block. {@code qkvBias} is null when the model has none. */
    public record Layer(float[] attnNorm, PackedMatrix qkv, float[] qkvBias, PackedMatrix wo, float[] ffnNorm,
                        PackedMatrix gateUp, PackedMatrix down) {
    }

    private final ModelShape shape;
    private final float[] tokenEmbedding;
    private final float[] outputNorm;
    private final PackedMatrix output;
    private final List<Layer> layers;
    private final boolean tiedOutput;
    private final String digest;

    private ModelWeights(ModelShape shape, float[] tokenEmbedding, float[] outputNorm, PackedMatrix output, List<Layer> layers,
                         boolean tiedOutput, String digest) {
        this.shape = shape;
        this.digest = digest;
        this.tiedOutput = tiedOutput;
        this.tokenEmbedding = tokenEmbedding;
        this.outputNorm = outputNorm;
        this.output = output;
        this.layers = layers;
    }

    /**
     * Reads every tensor the shape needs from {@code file}; layers are converted in parallel.
     *
     * @throws IllegalArgumentException when a tensor is missing, has the wrong shape or an unsupported type
     */
    public static ModelWeights load(GgufFile file) {
        ModelShape s = ModelShape.fromGguf(file);
        GgufTensor embd = expect(file, "token_embd.weight", s.dim(), s.vocabSize());
        float[] embedding = embd.readAll();
        GgufTensor out = file.tensor("output.weight").orElse(embd);
        expect(file, out.name(), s.dim(), s.vocabSize());
        PackedMatrix output = out == embd
                ? PackedMatrix.pack(s.vocabSize(), s.dim(), (r, dst) -> System.arraycopy(embedding, r * s.dim(), dst, 0, s.dim()))
                : pack(out);
        float[] outputNorm = expect(file, "output_norm.weight", s.dim()).readAll();
        List<Layer> layers = IntStream.range(0, s.layers()).parallel().mapToObj(l -> layer(file, s, l)).toList();
        return new ModelWeights(s, embedding, outputNorm, output, layers, out == embd, file.tensorDigest());
    }

    /**
     * The model id for the cache: {@code name@sha256:} and the first 16 hex digits of the tensors' digest
     * ({@link GgufFile#tensorDigest()}), so other weights of the same shape (a fine-tune) never share KV.
     */
    public String cacheModelId(String name) {
        return name + "@sha256:" + digest.substring(0, 16);
    }

    private static Layer layer(GgufFile f, ModelShape s, int l) {
        String b = "blk." + l + ".";
        GgufTensor q = expect(f, b + "attn_q.weight", s.dim(), s.qDim());
        GgufTensor k = expect(f, b + "attn_k.weight", s.dim(), s.kvDim());
        GgufTensor v = expect(f, b + "attn_v.weight", s.dim(), s.kvDim());
        GgufTensor gate = expect(f, b + "ffn_gate.weight", s.dim(), s.hiddenDim());
        GgufTensor up = expect(f, b + "ffn_up.weight", s.dim(), s.hiddenDim());
        float[] bias = null;
        if (s.qkvBias()) {
            bias = new float[s.qDim() + 2 * s.kvDim()];
            expect(f, b + "attn_q.bias", s.qDim()).readRow(0, bias, 0);
            expect(f, b + "attn_k.bias", s.kvDim()).readRow(0, bias, s.qDim());
            expect(f, b + "attn_v.bias", s.kvDim()).readRow(0, bias, s.qDim() + s.kvDim());
        }
        return new Layer(expect(f, b + "attn_norm.weight", s.dim()).readAll(),
                stack(s.dim(), q, k, v), bias,
                pack(expect(f, b + "attn_output.weight", s.qDim(), s.dim())),
                expect(f, b + "ffn_norm.weight", s.dim()).readAll(),
                stack(s.dim(), gate, up),
                pack(expect(f, b + "ffn_down.weight", s.hiddenDim(), s.dim())));
    }

    /** The rows of several {@code [cols, rows_i]} tensors, one after another, as one packed matrix. */
    private static PackedMatrix stack(int cols, GgufTensor... parts) {
        int rows = 0;
        for (GgufTensor t : parts) {
            rows += (int) t.rows();
        }
        return PackedMatrix.pack(rows, cols, (r, dst) -> {
            int row = r;
            for (GgufTensor t : parts) {
                if (row < t.rows()) {
                    t.readRow(row, dst, 0);
                    return;
                }
                row -= (int) t.rows();
            }
        });
    }

    private static PackedMatrix pack(GgufTensor t) {
        return PackedMatrix.pack((int) t.rows(), t.rowLength(), (r, dst) -> t.readRow(r, dst, 0));
    }

    private static GgufTensor expect(GgufFile f, String name, long... dims) {
        GgufTensor t = f.requireTensor(name);
        long[] actual = t.dims();
        boolean same = actual.length >= dims.length;
        for (int i = 0; same && i < actual.length; i++) {
            same = actual[i] == (i < dims.length ? dims[i] : 1);
        }
        if (!same) {
            throw new IllegalArgumentException(f.path() + ": tensor " + t + " (expected: dims " + Arrays.toString(dims) + ")");
        }
        return t;
    }

    public ModelShape shape() {
        return shape;
    }

    /** True when the logits use the token embedding (no {@code output.weight} in the file). */
    public boolean tiedOutput() {
        return tiedOutput;
    }

    /** Parameters of the model as the file holds them. */
    public long parameters() {
        return shape.parameters(tiedOutput);
    }

    /** Rows of {@code dim} floats, one per token id. */
    public float[] tokenEmbedding() {
        return tokenEmbedding;
    }

    public float[] outputNorm() {
        return outputNorm;
    }

    /** The logits matrix: {@code vocab} outputs of {@code dim} inputs. */
    public PackedMatrix output() {
        return output;
    }

    public Layer layer(int index) {
        return layers.get(index);
    }

    /** Bytes of all weights as held in memory. */
    public long sizeBytes() {
        long bytes = 4L * (tokenEmbedding.length + outputNorm.length) + output.sizeBytes();
        for (Layer l : layers) {
            bytes += l.qkv().sizeBytes() + l.wo().sizeBytes() + l.gateUp().sizeBytes() + l.down().sizeBytes()
                    + 4L * (l.attnNorm().length + l.ffnNorm().length + (l.qkvBias() == null ? 0 : l.qkvBias().length));
        }
        return bytes;
    }
}
