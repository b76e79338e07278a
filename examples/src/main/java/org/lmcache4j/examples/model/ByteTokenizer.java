package org.lmcache4j.examples.model;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.lmcache4j.examples.gguf.GgufFile;

/**
 * One token per UTF-8 byte. A prompt's tokens are a pure function of its bytes, so a prefix keeps its
 * tokens whatever is appended: exactly what prefix caching needs, with no BPE merge across the
 * boundary. For a real GGUF model the bytes map to the vocabulary's own byte tokens (SentencePiece's
 * {@code <0xNN>} or GPT-2's byte-to-unicode characters); otherwise token id = byte value.
 */
public final class ByteTokenizer {

    private final int[] byteToId;
    private final Map<Integer, Integer> idToByte = new HashMap<>();

    private ByteTokenizer(int[] byteToId) {
        this.byteToId = byteToId;
        for (int b = 0; b < 256; b++) {
            idToByte.put(byteToId[b], b);
        }
    }

    /** Token id = byte value; needs a vocabulary of at least 256. */
    public static ByteTokenizer identity() {
        int[] ids = new int[256];
        for (int b = 0; b < 256; b++) {
            ids[b] = b;
        }
        return new ByteTokenizer(ids);
    }

    /** The byte tokens of the file's vocabulary ({@code tokenizer.ggml.tokens}) when it has all 256, else identity. */
    public static ByteTokenizer forModel(GgufFile file) {
        List<?> tokens = file.value("tokenizer.ggml.tokens").map(v -> (List<?>) v.asList()).orElse(List.of());
        if (tokens.isEmpty()) {
            return identity();
        }
        Map<String, Integer> index = new HashMap<>();
        for (int i = 0; i < tokens.size(); i++) {
            index.putIfAbsent(String.valueOf(tokens.get(i)), i);
        }
        List<String> gpt2 = gpt2ByteChars();
        int[] ids = new int[256];
        for (int b = 0; b < 256; b++) {
            Integer id = index.get(String.format("<0x%02X>", b));
            if (id == null) {
                id = index.get(gpt2.get(b));
            }
            if (id == null) {
                return identity();
            }
            ids[b] = id;
        }
        return new ByteTokenizer(ids);
    }

    /** The tokens of {@code text}: one per UTF-8 byte. */
    public int[] encode(String text) {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        int[] ids = new int[bytes.length];
        for (int i = 0; i < bytes.length; i++) {
            ids[i] = byteToId[bytes[i] & 0xff];
        }
        return ids;
    }

    /** The text of {@code ids}; ids that are not byte tokens appear as {@code [id]}. */
    public String decode(int[] ids) {
        StringBuilder text = new StringBuilder();
        ByteArrayOutputStream run = new ByteArrayOutputStream();
        for (int id : ids) {
            Integer b = idToByte.get(id);
            if (b != null) {
                run.write(b);
                continue;
            }
            text.append(run.toString(StandardCharsets.UTF_8)).append('[').append(id).append(']');
            run.reset();
        }
        return text.append(run.toString(StandardCharsets.UTF_8)).toString();
    }

    /** GPT-2's bytes_to_unicode: printable bytes map to themselves, the rest to U+0100 onwards. */
    static List<String> gpt2ByteChars() {
        List<String> chars = new ArrayList<>(256);
        int next = 256;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            chars.add(Character.toString(printable ? b : next++));
        }
        return chars;
    }
}
