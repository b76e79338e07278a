package org.lmcache4j.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class KvLayoutTest {

    /** Llama-3.1-8B: 32 layers, 8 KV heads of 128, BF16. */
    private static final KvLayout LLAMA_8B = KvLayout.standard(32, 8, 128, KvDtype.BF16);
    /** DeepSeek-V3-style MLA: 61 layers, 576-element latent (512 + 64 rope), BF16. */
    private static final KvLayout DEEPSEEK_MLA = KvLayout.mla(61, 576, KvDtype.BF16);

    @Test
    void standardLayoutSizes() {
        assertEquals(2, LLAMA_8B.planes());
        assertEquals(1024, LLAMA_8B.tokenDim());
        assertEquals(2048, LLAMA_8B.rowBytes());
        assertEquals(131_072, LLAMA_8B.bytesPerToken());
        assertEquals(256L * 131_072, LLAMA_8B.chunkBytes(256));
        assertEquals(0L, LLAMA_8B.chunkBytes(0));
        assertFalse(LLAMA_8B.mla());
    }

    @Test
    void mlaLayoutSizes() {
        assertTrue(DEEPSEEK_MLA.mla());
        assertEquals(1, DEEPSEEK_MLA.planes());
        assertEquals(1, DEEPSEEK_MLA.numKvHeads());
        assertEquals(576, DEEPSEEK_MLA.tokenDim());
        assertEquals(1152, DEEPSEEK_MLA.rowBytes());
        assertEquals(61 * 1152, DEEPSEEK_MLA.bytesPerToken());
    }

    @Test
    void elementSizeFollowsDtype() {
        assertEquals(4 * 2 * 1024, KvLayout.standard(1, 8, 128, KvDtype.FP32).bytesPerToken());
        assertEquals(2 * 2 * 1024, KvLayout.standard(1, 8, 128, KvDtype.FP16).bytesPerToken());
        assertEquals(2 * 1024, KvLayout.standard(1, 8, 128, KvDtype.FP8_E4M3).bytesPerToken());
        assertEquals(2 * 1024, KvLayout.standard(1, 8, 128, KvDtype.FP8_E5M2).bytesPerToken());
    }

    @Test
    void fingerprintGoldenValues() {
        // SHA-256("kv-layout/1;layers=32;kvHeads=8;headDim=128;dtype=BF16;mla=false"), first 8 bytes.
        // If this fails, the canonical text changed: stored chunks of every deployment become misses,
        // so bump FINGERPRINT_VERSION on purpose and update these values.
        assertEquals("d4f6e32487754f6c", LLAMA_8B.fingerprint());
        // SHA-256("kv-layout/1;layers=61;kvHeads=1;headDim=576;dtype=BF16;mla=true"), first 8 bytes.
        assertEquals("5a32ff7dbc588d12", DEEPSEEK_MLA.fingerprint());
    }

    @Test
    void fingerprintIsStableAndSixteenLowerCaseHexDigits() {
        String fp = LLAMA_8B.fingerprint();
        assertEquals(fp, KvLayout.standard(32, 8, 128, KvDtype.BF16).fingerprint());
        assertTrue(fp.matches("[0-9a-f]{16}"), fp);
    }

    static Stream<Arguments> oneFieldChanged() {
        return Stream.of(
                Arguments.of("numLayers", KvLayout.standard(33, 8, 128, KvDtype.BF16)),
                Arguments.of("numKvHeads", KvLayout.standard(32, 4, 128, KvDtype.BF16)),
                Arguments.of("headDim", KvLayout.standard(32, 8, 64, KvDtype.BF16)),
                Arguments.of("dtype FP16 (same size)", KvLayout.standard(32, 8, 128, KvDtype.FP16)),
                Arguments.of("dtype FP8_E4M3", KvLayout.standard(32, 8, 128, KvDtype.FP8_E4M3)),
                Arguments.of("dtype FP8_E5M2", KvLayout.standard(32, 8, 128, KvDtype.FP8_E5M2)),
                Arguments.of("dtype FP32", KvLayout.standard(32, 8, 128, KvDtype.FP32)),
                // heads and dim swapped: same tokenDim, same bytes, different layout
                Arguments.of("numKvHeads/headDim swapped", KvLayout.standard(32, 128, 8, KvDtype.BF16)));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("oneFieldChanged")
    void fingerprintDiffersWhenAnyFieldDiffers(String changed, KvLayout other) {
        assertNotEquals(LLAMA_8B, other);
        assertNotEquals(LLAMA_8B.fingerprint(), other.fingerprint(), changed);
    }

    @Test
    void fingerprintDiffersBetweenMlaAndStandardOfSameShape() {
        KvLayout mla = KvLayout.mla(32, 128, KvDtype.BF16);
        KvLayout standard = KvLayout.standard(32, 1, 128, KvDtype.BF16);
        assertNotEquals(mla.fingerprint(), standard.fingerprint());
    }

    static Stream<Arguments> invalid() {
        return Stream.of(
                Arguments.of(0, 8, 128, KvDtype.BF16, false, "numLayers: 0 (expected: > 0)"),
                Arguments.of(-1, 8, 128, KvDtype.BF16, false, "numLayers: -1 (expected: > 0)"),
                Arguments.of(32, 0, 128, KvDtype.BF16, false, "numKvHeads: 0 (expected: > 0)"),
                Arguments.of(32, 8, 0, KvDtype.BF16, false, "headDim: 0 (expected: > 0)"),
                Arguments.of(32, 8, -128, KvDtype.BF16, false, "headDim: -128 (expected: > 0)"),
                Arguments.of(32, 8, 128, null, false, "dtype: null (expected: one of"),
                Arguments.of(32, 8, 576, KvDtype.BF16, true, "numKvHeads: 8 (expected: 1 for an MLA layout)"),
                // 2 * 1024 * 512 * 512 * 4 = 2^31: one past Integer.MAX_VALUE
                Arguments.of(1 << 10, 1 << 9, 1 << 9, KvDtype.FP32, false,
                        "bytes per token: 2147483648 (expected: at most 2 GiB)"));
    }

    @ParameterizedTest(name = "{5}")
    @MethodSource("invalid")
    void invalidValuesAreRejectedNamingTheField(int layers, int heads, int dim, KvDtype dtype, boolean mla,
                                                String message) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new KvLayout(layers, heads, dim, dtype, mla));
        assertTrue(e.getMessage().startsWith(message), e.getMessage());
    }

    @Test
    void largestLayoutBelowTwoGiBPerTokenIsAccepted() {
        KvLayout huge = KvLayout.standard(1 << 10, 1 << 9, 1 << 8, KvDtype.FP32);
        assertEquals(1 << 30, huge.bytesPerToken());
        assertEquals(3L << 30, huge.chunkBytes(3));
    }

    @Test
    void negativeChunkTokensRejected() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> LLAMA_8B.chunkBytes(-1));
        assertEquals("tokens: -1 (expected: >= 0)", e.getMessage());
    }
}
