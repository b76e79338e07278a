package org.lmcache4j.examples.jlama;

import com.github.tjake.jlama.safetensors.prompt.PromptSupport;
import com.github.tjake.jlama.safetensors.tokenizer.Tokenizer;
import com.github.tjake.jlama.safetensors.tokenizer.TokenizerModel;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A byte-level tokenizer for the random-weight demo model: each UTF-8 byte of the prompt is one token
 * ({@code FIRST_BYTE_TOKEN + byte}), so a prompt of N ASCII characters is N tokens and needs no vocabulary
 * file. Ids outside the byte range (a random model samples any id of its vocabulary) decode as {@code <id>}.
 */
final class ByteTokenizer implements Tokenizer {

    /** Token id of byte 0; ids below it are BOS (1) and EOS (2) as in Llama vocabularies. */
    static final int FIRST_BYTE_TOKEN = 3;

    private final TokenizerModel model = new TokenizerModel("BPE", null, false, false, Map.of(), false, List.of());

    @Override
    public List<String> tokenize(String sentence) {
        List<String> out = new ArrayList<>();
        for (long id : encode(sentence)) {
            out.add(decode(id));
        }
        return out;
    }

    @Override
    public long[] encode(String sentence) {
        byte[] bytes = sentence.getBytes(StandardCharsets.UTF_8);
        long[] ids = new long[bytes.length];
        for (int i = 0; i < bytes.length; i++) {
            ids[i] = FIRST_BYTE_TOKEN + (bytes[i] & 0xFF);
        }
        return ids;
    }

    @Override
    public String decode(long id) {
        long b = id - FIRST_BYTE_TOKEN;
        return b >= 0 && b < 256 ? String.valueOf((char) b) : "<" + id + ">";
    }

    @Override
    public String decode(long[] ids) {
        StringBuilder sb = new StringBuilder();
        for (long id : ids) {
            sb.append(decode(id));
        }
        return sb.toString();
    }

    @Override
    public Optional<PromptSupport> promptSupport() {
        return Optional.empty();
    }

    @Override
    public TokenizerModel getModel() {
        return model;
    }
}
