package org.lmcache4j.examples.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lmcache4j.examples.gguf.GgmlType;
import org.lmcache4j.examples.gguf.GgufFile;
import org.lmcache4j.examples.gguf.GgufValue;
import org.lmcache4j.examples.gguf.GgufWriter;

/** One token per byte: a prefix keeps its tokens whatever follows; real vocabularies map to their byte tokens. */
class ByteTokenizerTest {

    @TempDir
    Path dir;

    @Test
    void aPrefixKeepsItsTokensWhenTextIsAppended() {
        ByteTokenizer t = ByteTokenizer.identity();
        String prefix = "System: you are a cache. Document: naïve café ";
        int[] alone = t.encode(prefix);
        int[] extended = t.encode(prefix + "Question: what is cached?");
        assertArrayEquals(alone, Arrays.copyOf(extended, alone.length));
        assertEquals(prefix + "x", t.decode(t.encode(prefix + "x")));
    }

    @Test
    void gpt2ByteCharactersAreDistinct() {
        assertEquals(256, new HashSet<>(ByteTokenizer.gpt2ByteChars()).size());
        assertEquals("A", ByteTokenizer.gpt2ByteChars().get('A'));
        assertEquals("\u0120", ByteTokenizer.gpt2ByteChars().get(' ')); // GPT-2's "Ġ"
    }

    @Test
    void aSentencePieceVocabularyMapsBytesToItsHexTokens() throws IOException {
        List<String> vocab = new ArrayList<>(List.of("<unk>", "<s>", "</s>"));
        for (int b = 0; b < 256; b++) {
            vocab.add(String.format("<0x%02X>", b));
        }
        Path file = dir.resolve("v.gguf");
        new GgufWriter().put("tokenizer.ggml.tokens", GgufValue.strings(vocab)).write(file);
        try (GgufFile f = GgufFile.open(file)) {
            ByteTokenizer t = ByteTokenizer.forModel(f);
            assertArrayEquals(new int[] {3 + 'h', 3 + 'i'}, t.encode("hi"));
            assertEquals("hi[1]", t.decode(new int[] {3 + 'h', 3 + 'i', 1}));
        }
    }

    @Test
    void withoutAVocabularyTheIdIsTheByte() throws IOException {
        Path file = dir.resolve("none.gguf");
        new GgufWriter().put("general.architecture", GgufValue.string("llama")).tensor("x", new long[] {32}, GgmlType.F32,
                (r, d) -> { }).write(file);
        try (GgufFile f = GgufFile.open(file)) {
            assertArrayEquals(new int[] {0xc3, 0xa9}, ByteTokenizer.forModel(f).encode("é"));
        }
    }
}
