package org.lmcache4j.examples.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lmcache4j.examples.gguf.GgmlType;
import org.lmcache4j.examples.gguf.GgufFile;

/** Generated models are deterministic, use llama.cpp's names and metadata, and load back into the engine's form. */
class SeededModelTest {

    @TempDir
    Path dir;

    @Test
    void theSameSeedGivesTheSameFileAndAnotherSeedAnotherOne() throws IOException {
        ModelShape tiny = ModelSize.TINY.shape();
        SeededModel.write(tiny, 5, GgmlType.F16, dir.resolve("a.gguf"));
        SeededModel.write(tiny, 5, GgmlType.F16, dir.resolve("b.gguf"));
        SeededModel.write(tiny, 6, GgmlType.F16, dir.resolve("c.gguf"));
        byte[] a = Files.readAllBytes(dir.resolve("a.gguf"));
        assertArrayEquals(a, Files.readAllBytes(dir.resolve("b.gguf")));
        assertFalse(java.util.Arrays.equals(a, Files.readAllBytes(dir.resolve("c.gguf"))));
    }

    @Test
    void theFileStatesTheShapeInLlamaCppTermsAndLoadsBack() throws IOException {
        Path file = SeededModel.cached(ModelSize.TINY.shape(), 1, GgmlType.F32, dir);
        assertEquals("tiny-seed1-f32.gguf", file.getFileName().toString());
        try (GgufFile f = GgufFile.open(file)) {
            ModelShape read = ModelShape.fromGguf(f);
            ModelShape tiny = ModelSize.TINY.shape();
            assertEquals(tiny, read);
            assertEquals("llama", f.require("general.architecture").asString());
            for (String name : new String[] {"token_embd.weight", "output_norm.weight", "blk.1.attn_q.weight", "blk.1.attn_k.weight",
                    "blk.1.attn_v.weight", "blk.1.attn_output.weight", "blk.1.ffn_gate.weight", "blk.1.ffn_up.weight",
                    "blk.1.ffn_down.weight", "blk.1.attn_norm.weight", "blk.1.ffn_norm.weight"}) {
                assertTrue(f.tensor(name).isPresent(), name);
            }
            assertArrayEquals(new long[] {tiny.dim(), tiny.qDim()}, f.requireTensor("blk.0.attn_q.weight").dims());
            assertArrayEquals(new long[] {tiny.hiddenDim(), tiny.dim()}, f.requireTensor("blk.0.ffn_down.weight").dims());
            ModelWeights w = ModelWeights.load(f);
            assertEquals(tiny.qDim() + 2 * tiny.kvDim(), w.layer(0).qkv().rows());
            assertEquals(2 * tiny.hiddenDim(), w.layer(0).gateUp().rows());
            assertEquals(tiny.vocabSize(), w.output().rows());
        }
    }

    @Test
    void aQwenShapedModelHasBiasesAndNeoxRope() throws IOException {
        ModelShape qwenTiny = new ModelShape("qwen-tiny", "qwen2", 64, 1, 4, 2, 16, 96, 300, 4096, 1e-6f, 1e6f, true);
        Path file = dir.resolve("q.gguf");
        SeededModel.write(qwenTiny, 1, GgmlType.BF16, file);
        try (GgufFile f = GgufFile.open(file)) {
            assertEquals(qwenTiny, ModelShape.fromGguf(f));
            assertTrue(ModelShape.fromGguf(f).neoxRope());
            assertEquals(qwenTiny.qDim() + 2 * qwenTiny.kvDim(), ModelWeights.load(f).layer(0).qkvBias().length);
        }
    }
}
