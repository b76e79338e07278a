package org.lmcache4j.examples.gguf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** A GGUF file written by {@link GgufWriter} reads back through {@link GgufFile} with the same metadata and values. */
class GgufRoundTripTest {

    @TempDir
    Path dir;

    private static float value(long row, int col) {
        return (float) Math.sin(row * 31 + col * 0.37) * (1 + row % 3);
    }

    private Path write(GgmlType type) throws IOException {
        Path file = dir.resolve("m-" + type + ".gguf");
        new GgufWriter()
                .put("general.architecture", GgufValue.string("llama"))
                .put("llama.block_count", GgufValue.u32(30))
                .put("llama.rope.freq_base", GgufValue.f32(100000))
                .put("test.flag", GgufValue.bool(true))
                .put("tokenizer.ggml.tokens", GgufValue.strings(List.of("<unk>", "a", "ü")))
                .tensor("blk.0.attn_q.weight", new long[] {64, 3}, type, (row, dst) -> {
                    for (int c = 0; c < dst.length; c++) {
                        dst[c] = value(row, c);
                    }
                })
                .tensor("output_norm.weight", new long[] {5}, GgmlType.F32, (row, dst) -> {
                    for (int c = 0; c < dst.length; c++) {
                        dst[c] = c + 0.5f;
                    }
                })
                .write(file);
        return file;
    }

    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"F32", "F16", "BF16", "Q8_0"})
    void tensorsReadBackAsWritten(GgmlType type) throws IOException {
        try (GgufFile f = GgufFile.open(write(type))) {
            assertEquals(3, f.version());
            GgufTensor t = f.requireTensor("blk.0.attn_q.weight");
            assertEquals(type, t.type());
            assertArrayEquals(new long[] {64, 3}, t.dims());
            assertEquals(3, t.rows());
            float[] row = new float[64];
            for (int r = 0; r < 3; r++) {
                t.readRow(r, row, 0);
                for (int c = 0; c < 64; c++) {
                    float v = value(r, c);
                    float expected = switch (type) {
                        case F32 -> v;
                        case F16 -> Float.float16ToFloat(Float.floatToFloat16(v));
                        case BF16 -> Float.intBitsToFloat(GgufWriter.bf16Bits(v) << 16);
                        default -> row[c];
                    };
                    assertEquals(Float.floatToRawIntBits(expected), Float.floatToRawIntBits(row[c]), type + " row " + r + " col " + c);
                    assertEquals(v, row[c], type == GgmlType.Q8_0 ? 3f / 127 / 2 + 1e-3f : 4e-3f * Math.abs(v) + 1e-6f);
                }
            }
            assertArrayEquals(new float[] {0.5f, 1.5f, 2.5f, 3.5f, 4.5f}, f.requireTensor("output_norm.weight").readAll());
        }
    }

    @Test
    void metadataKeepsItsTypesAndValues() throws IOException {
        try (GgufFile f = GgufFile.open(write(GgmlType.F16))) {
            assertEquals("llama", f.require("general.architecture").asString());
            assertEquals(30, f.require("llama.block_count").asLong());
            assertEquals(GgufValue.Type.UINT32, f.require("llama.block_count").type());
            assertEquals(100000.0, f.require("llama.rope.freq_base").asDouble());
            assertEquals(true, f.require("test.flag").value());
            assertEquals(List.of("<unk>", "a", "ü"), f.require("tokenizer.ggml.tokens").asList());
            assertEquals(32, f.require("general.alignment").asLong());
        }
    }

    @Test
    void tensorDataStartsAtAlignedOffsets() throws IOException {
        Path file = write(GgmlType.F16);
        long size = Files.size(file);
        // 64 x 3 F16 = 384 bytes, then 5 x F32 = 20 bytes padded to 32: the last tensor ends where the file does
        try (GgufFile f = GgufFile.open(file)) {
            assertEquals(size, align(size - 32) + 32, "file length " + size);
            assertEquals(5, f.requireTensor("output_norm.weight").elements());
        }
    }

    private static long align(long v) {
        return GgufFile.align(v, 32);
    }

    @Test
    void aFileThatIsNotGgufIsRejectedWithItsMagic() throws IOException {
        Path file = dir.resolve("bad.gguf");
        Files.write(file, ByteBuffer.allocate(64).order(ByteOrder.LITTLE_ENDIAN).putInt(0x12345678).array());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> GgufFile.open(file));
        assertTrue(e.getMessage().contains("magic 0x12345678"), e.getMessage());
    }

    @Test
    void aTruncatedFileIsRejectedWithTheOffset() throws IOException {
        Path full = write(GgmlType.F32);
        byte[] bytes = Files.readAllBytes(full);
        Path cut = dir.resolve("cut.gguf");
        Files.write(cut, java.util.Arrays.copyOf(bytes, 40));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> GgufFile.open(cut));
        assertTrue(e.getMessage().contains("truncated at offset"), e.getMessage());
    }
}
