package org.lmcache4j.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;

class LmCacheConfigTest {

    private static final long MIB = 1L << 20;
    private static final long GIB = 1L << 30;

    private static LmCacheConfig fromEnv(Map<String, String> env) {
        return LmCacheConfig.builder().fromEnvironment(env).build();
    }

    @Test
    void defaults() {
        LmCacheConfig c = LmCacheConfig.defaults();
        assertEquals("tiered", c.connector());
        assertEquals("", c.modelId());
        assertFalse(c.hasModelId());
        assertEquals(LmCacheConfig.UNNAMED_MODEL, c.namespace(KvLayout.standard(1, 1, 8, KvDtype.FP32)).modelId());
        assertEquals(256, c.chunkTokens());
        assertTrue(c.localCpu());
        assertEquals(5 * GIB, c.maxLocalCpuBytes());
        assertEquals(5_368_709_120L, c.maxLocalCpuBytes());
        assertEquals(Optional.of(LmCacheConfig.defaultDiskDirectory()), c.localDisk());
        assertEquals(10 * GIB, c.maxLocalDiskBytes());
        assertEquals(Optional.empty(), LmCacheConfig.builder().noLocalDisk().build().localDisk());
        assertEquals(Optional.empty(),
                LmCacheConfig.builder().fromEnvironment(java.util.Map.of("LMCACHE_LOCAL_DISK", "off")).build().localDisk());
        assertEquals(Optional.empty(), c.remoteUrl());
        assertFalse(c.saveUnfullChunk());
        assertEquals(HashAlgorithm.SHA_256, c.hashAlgorithm());
        assertEquals("", c.tenantSalt());
        assertEquals(0, c.tpRank());
        assertEquals(1, c.tpWorldSize());
        assertEquals(30_000L, c.pinTimeoutMillis());
    }

    @Test
    void emptyEnvironmentKeepsDefaults() {
        assertEquals(LmCacheConfig.defaults(), fromEnv(Map.of()));
        assertEquals(LmCacheConfig.defaults(), fromEnv(Map.of("LMCACHE_CHUNK_SIZE", "  ", "OTHER", "x")));
    }

    @Test
    void everyVariableIsRead() {
        Map<String, String> env = Map.ofEntries(
                Map.entry("LMCACHE_CONNECTOR", "custom"),
                Map.entry("LMCACHE_MODEL_ID", "meta-llama/Llama-3.1-8B"),
                Map.entry("LMCACHE_CHUNK_SIZE", "512"),
                Map.entry("LMCACHE_LOCAL_CPU", "True"),
                Map.entry("LMCACHE_MAX_LOCAL_CPU_SIZE", "0.5"),
                Map.entry("LMCACHE_LOCAL_DISK", "file:///tmp/x"),
                Map.entry("LMCACHE_MAX_LOCAL_DISK_SIZE", "20"),
                Map.entry("LMCACHE_REMOTE_URL", "redis://cache:6379"),
                Map.entry("LMCACHE_SAVE_UNFULL_CHUNK", "True"),
                Map.entry("LMCACHE_HASH_ALGORITHM", "xxh3_128"),
                Map.entry("LMCACHE_TENANT_SALT", "tenant-7"),
                Map.entry("LMCACHE_TP_RANK", "3"),
                Map.entry("LMCACHE_TP_WORLD_SIZE", "4"),
                Map.entry("LMCACHE_PIN_TIMEOUT_MS", "1500"));
        LmCacheConfig c = fromEnv(env);
        assertEquals("custom", c.connector());
        assertEquals("meta-llama/Llama-3.1-8B", c.modelId());
        assertEquals(512, c.chunkTokens());
        assertTrue(c.localCpu());
        assertEquals(512 * MIB, c.maxLocalCpuBytes());
        assertEquals(Optional.of(Path.of("/tmp/x")), c.localDisk());
        assertEquals(20 * GIB, c.maxLocalDiskBytes());
        assertEquals(Optional.of("redis://cache:6379"), c.remoteUrl());
        assertTrue(c.saveUnfullChunk());
        assertEquals(HashAlgorithm.XXH3_128, c.hashAlgorithm());
        assertEquals("tenant-7", c.tenantSalt());
        assertEquals(3, c.tpRank());
        assertEquals(4, c.tpWorldSize());
        assertEquals(1500L, c.pinTimeoutMillis());
    }

    @Test
    void falseBooleansAndPlainDiskPath() {
        LmCacheConfig c = fromEnv(Map.of(
                "LMCACHE_LOCAL_CPU", "False",
                "LMCACHE_MAX_LOCAL_CPU_SIZE", "0",
                "LMCACHE_SAVE_UNFULL_CHUNK", "False",
                "LMCACHE_LOCAL_DISK", "/var/cache/kv"));
        assertFalse(c.localCpu());
        assertEquals(0L, c.maxLocalCpuBytes());
        assertFalse(c.saveUnfullChunk());
        assertEquals(Optional.of(Path.of("/var/cache/kv")), c.localDisk());
    }

    @ParameterizedTest
    @CsvSource({"true,true", "TRUE,true", "1,true", "yes,true", "on,true",
                "false,false", "FALSE,false", "0,false", "no,false", "off,false"})
    void booleanSpellings(String text, boolean expected) {
        assertEquals(expected, fromEnv(Map.of("LMCACHE_SAVE_UNFULL_CHUNK", text)).saveUnfullChunk());
    }

    @ParameterizedTest
    @CsvSource({"sha256,SHA_256", "SHA-256,SHA_256", "sha_256,SHA_256", "xxh3-128,XXH3_128", "XXH3_128,XXH3_128"})
    void hashAlgorithmSpellings(String text, HashAlgorithm expected) {
        assertEquals(expected, fromEnv(Map.of("LMCACHE_HASH_ALGORITHM", text)).hashAlgorithm());
    }

    @Test
    void valuesAreTrimmed() {
        LmCacheConfig c = fromEnv(Map.of("LMCACHE_CHUNK_SIZE", " 128 ", "LMCACHE_MAX_LOCAL_CPU_SIZE", " 2 "));
        assertEquals(128, c.chunkTokens());
        assertEquals(2 * GIB, c.maxLocalCpuBytes());
    }

    static Stream<Arguments> badEnvironmentValues() {
        return Stream.of(
                Arguments.of("LMCACHE_CHUNK_SIZE", "abc", "an integer"),
                Arguments.of("LMCACHE_CHUNK_SIZE", "256.0", "an integer"),
                Arguments.of("LMCACHE_TP_RANK", "one", "an integer"),
                Arguments.of("LMCACHE_TP_WORLD_SIZE", "99999999999", "an integer"),
                Arguments.of("LMCACHE_PIN_TIMEOUT_MS", "30s", "an integer"),
                Arguments.of("LMCACHE_LOCAL_CPU", "maybe", "true or false"),
                Arguments.of("LMCACHE_SAVE_UNFULL_CHUNK", "Tru", "true or false"),
                Arguments.of("LMCACHE_MAX_LOCAL_CPU_SIZE", "5GB", "a size in GiB such as 5 or 0.5"),
                Arguments.of("LMCACHE_MAX_LOCAL_CPU_SIZE", "-1", "a size in GiB from 0 to 1048576"),
                Arguments.of("LMCACHE_MAX_LOCAL_CPU_SIZE", "NaN", "a size in GiB from 0 to 1048576"),
                Arguments.of("LMCACHE_MAX_LOCAL_DISK_SIZE", "Infinity", "a size in GiB from 0 to 1048576"),
                Arguments.of("LMCACHE_MAX_LOCAL_DISK_SIZE", "1048577", "a size in GiB from 0 to 1048576"),
                Arguments.of("LMCACHE_LOCAL_DISK", "file://", "a directory path or file:///path"),
                Arguments.of("LMCACHE_HASH_ALGORITHM", "md5", "sha256 or xxh3_128"));
    }

    @ParameterizedTest(name = "{0}={1}")
    @MethodSource("badEnvironmentValues")
    void badEnvironmentValueIsRejectedNamingVariableAndValue(String name, String value, String expected) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> LmCacheConfig.builder().fromEnvironment(Map.of(name, value)));
        assertEquals(name + ": '" + value + "' (expected: " + expected + ")", e.getMessage());
    }

    @Test
    void chunkTokensValidated() {
        IllegalArgumentException zero = assertThrows(IllegalArgumentException.class,
                () -> LmCacheConfig.builder().chunkTokens(0).build());
        assertEquals("chunkTokens: 0 (expected: 1 to 1048576)", zero.getMessage());
        IllegalArgumentException huge = assertThrows(IllegalArgumentException.class,
                () -> LmCacheConfig.builder().chunkTokens((1 << 20) + 1).build());
        assertEquals("chunkTokens: 1048577 (expected: 1 to 1048576)", huge.getMessage());
        assertEquals(1 << 20, LmCacheConfig.builder().chunkTokens(1 << 20).build().chunkTokens());
        assertEquals(1, LmCacheConfig.builder().chunkTokens(1).build().chunkTokens());
    }

    @Test
    void negativeBudgetsRejected() {
        IllegalArgumentException cpu = assertThrows(IllegalArgumentException.class,
                () -> LmCacheConfig.builder().maxLocalCpuBytes(-1).build());
        assertEquals("maxLocalCpuBytes: -1 (expected: >= 0)", cpu.getMessage());
        IllegalArgumentException disk = assertThrows(IllegalArgumentException.class,
                () -> LmCacheConfig.builder().maxLocalDiskBytes(-4096).build());
        assertEquals("maxLocalDiskBytes: -4096 (expected: >= 0)", disk.getMessage());
    }

    @Test
    void zeroCpuBudgetNeedsTheCpuTierOff() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> LmCacheConfig.builder().maxLocalCpuBytes(0).build());
        assertEquals("maxLocalCpuBytes: 0 (expected: > 0 when the local CPU tier is on)", e.getMessage());
        assertEquals(0L, LmCacheConfig.builder().localCpu(false).maxLocalCpuBytes(0).build().maxLocalCpuBytes());
    }

    @ParameterizedTest
    @CsvSource({"1,1", "2,2", "-1,4", "0,0", "0,-1"})
    void tensorParallelValidated(int rank, int worldSize) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> LmCacheConfig.builder().tensorParallel(rank, worldSize).build());
        assertEquals("tpRank: " + rank + ", tpWorldSize: " + worldSize
                + " (expected: tpWorldSize > 0 and 0 <= tpRank < tpWorldSize)", e.getMessage());
    }

    @Test
    void tensorParallelFromEnvironmentIsValidatedAtBuild() {
        LmCacheConfig.Builder b = LmCacheConfig.builder()
                .fromEnvironment(Map.of("LMCACHE_TP_RANK", "4", "LMCACHE_TP_WORLD_SIZE", "4"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, b::build);
        assertTrue(e.getMessage().startsWith("tpRank: 4, tpWorldSize: 4"), e.getMessage());
        assertTrue(e.getMessage().endsWith("(set from the environment: LMCACHE_TP_RANK, LMCACHE_TP_WORLD_SIZE)"), e.getMessage());
    }

    @Test
    void aValueRefusedAtBuildNamesTheVariableItCameFrom() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> LmCacheConfig.builder().fromEnvironment(Map.of("LMCACHE_CHUNK_SIZE", "0")).build());
        assertTrue(e.getMessage().startsWith("chunkTokens: 0") && e.getMessage().endsWith("(set from the environment: LMCACHE_CHUNK_SIZE)"),
                e.getMessage());
        IllegalArgumentException fromCode = assertThrows(IllegalArgumentException.class,
                () -> LmCacheConfig.builder().chunkTokens(0).build());
        assertFalse(fromCode.getMessage().contains("environment"), fromCode.getMessage());
    }

    @Test
    void otherValidation() {
        assertEquals("connector: ' ' (expected: non-blank text)", assertThrows(IllegalArgumentException.class,
                () -> LmCacheConfig.builder().connector(" ").build()).getMessage());
        assertFalse(LmCacheConfig.builder().modelId(null).build().hasModelId(), "null means not set");
        assertEquals("modelId: ' ' (expected: a non-blank model name)", assertThrows(IllegalArgumentException.class,
                () -> LmCacheConfig.builder().modelId(" ").build()).getMessage());
        assertEquals("pinTimeoutMillis: 0 (expected: 1 to 86400000, one day)", assertThrows(IllegalArgumentException.class,
                () -> LmCacheConfig.builder().pinTimeoutMillis(0).build()).getMessage());
        // Duration.ofMillis(Long.MAX_VALUE).toNanos() overflowed into an ArithmeticException at the first pin
        assertEquals("pinTimeoutMillis: 9223372036854775807 (expected: 1 to 86400000, one day)",
                assertThrows(IllegalArgumentException.class,
                        () -> LmCacheConfig.builder().pinTimeoutMillis(Long.MAX_VALUE).build()).getMessage());
        assertEquals(LmCacheConfig.MAX_PIN_TIMEOUT_MILLIS,
                LmCacheConfig.builder().pinTimeoutMillis(86_400_000).build().pinTimeoutMillis());
        assertThrows(IllegalArgumentException.class, () -> LmCacheConfig.builder().hashAlgorithm(null).build());
        assertEquals("copyThreads: 0 (expected: 1 to 256)", assertThrows(IllegalArgumentException.class,
                () -> LmCacheConfig.builder().copyThreads(0).build()).getMessage());
        assertEquals(3, fromEnv(Map.of("LMCACHE_COPY_THREADS", "3")).copyThreads());
        assertTrue(LmCacheConfig.defaults().copyThreads() >= 1 && LmCacheConfig.defaults().copyThreads() <= 4);
    }

    @Test
    void malformedTextIsRejectedBeforeItCanCollide() {
        // "a\uD800" and "a\uDC00" both encode to "a?" in UTF-8: two ids, one namespace, on the old code
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> LmCacheConfig.builder().modelId("a\uD800").build());
        assertEquals("modelId: unpaired surrogate U+D800 at index 1 (expected: well-formed UTF-16 text; malformed text"
                + " would collide with other values once encoded)", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> LmCacheConfig.builder().modelId("a\uDC00b").build());
        assertThrows(IllegalArgumentException.class, () -> LmCacheConfig.builder().tenantSalt("\uDBFF").build());
        assertThrows(IllegalArgumentException.class, () -> new CacheNamespace("m", "f", "x\uD800", 0, 1));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> LmCacheConfig.builder().modelId("m\nfake=1").build())
                .getMessage().contains("control character U+000A at index 1"));
        assertThrows(IllegalArgumentException.class, () -> LmCacheConfig.builder().modelId("m".repeat(1025)).build());
        assertEquals("\uD83D\uDE00 ok", LmCacheConfig.builder().modelId("\uD83D\uDE00 ok").build().modelId(), "pairs are fine");
    }

    @Test
    void toStringMasksSecrets() {
        LmCacheConfig c = LmCacheConfig.builder().modelId("m").tenantSalt("tenant-secret")
                .remoteUrl("rediss://alice:hunter2@cache:6380/0?capacity=1g&password=hunter3").build();
        String text = c.toString();
        assertFalse(text.contains("hunter2"), text);
        assertFalse(text.contains("hunter3"), text);
        assertFalse(text.contains("alice"), text);
        assertFalse(text.contains("tenant-secret"), text);
        assertTrue(text.contains("remoteUrl=rediss://***@cache:6380/0?capacity=1g&password=***"), text);
        assertEquals("redis://***@h", LmCacheConfig.maskCredentials("redis://:pw@h"));
        assertEquals("redis://h?timeoutMillis=5&auth_token=***", LmCacheConfig.maskCredentials("redis://h?timeoutMillis=5&auth_token=x"));
        assertEquals("redis://***@h:1", LmCacheConfig.maskCredentials("redis://:p%40ss@h:1"));
        assertEquals("redis://***@host:6379", LmCacheConfig.maskCredentials("redis://:pa#ss@host:6379"));
        assertEquals("redis://***@host", LmCacheConfig.maskCredentials("redis://u:a/b?c@d@host"));
    }

    @Test
    void identityHasEveryField() {
        KvLayout layout = KvLayout.standard(2, 2, 16, KvDtype.BF16);
        LmCacheConfig c = LmCacheConfig.builder().modelId("m@rev1").chunkTokens(128).hashAlgorithm(HashAlgorithm.XXH3_128)
                .tenantSalt("t").tensorParallel(1, 2).build();
        CacheIdentity id = c.identity(layout);
        assertEquals(c.namespace(layout), id.namespace());
        assertEquals(128, id.chunkTokens());
        assertEquals(HashAlgorithm.XXH3_128, id.hashAlgorithm());
    }

    @Test
    void blankRemoteUrlAndNullDiskMeanOff() {
        LmCacheConfig c = LmCacheConfig.builder().remoteUrl(" ").localDisk(null).tenantSalt(null).build();
        assertEquals(Optional.empty(), c.remoteUrl());
        assertEquals(Optional.empty(), c.localDisk());
        assertEquals("", c.tenantSalt());
    }

    @Test
    void toBuilderRoundTrips() {
        LmCacheConfig c = fromEnv(Map.of("LMCACHE_CHUNK_SIZE", "64", "LMCACHE_LOCAL_DISK", "/d",
                "LMCACHE_TENANT_SALT", "s", "LMCACHE_TP_RANK", "1", "LMCACHE_TP_WORLD_SIZE", "2"));
        assertEquals(c, c.toBuilder().build());
        assertEquals(128, c.toBuilder().chunkTokens(128).build().chunkTokens());
    }

    @Test
    void namespaceCarriesTenantAndParallelism() {
        KvLayout layout = KvLayout.standard(32, 8, 128, KvDtype.BF16);
        LmCacheConfig c = LmCacheConfig.builder().modelId("m").tenantSalt("t").tensorParallel(1, 2).build();
        assertEquals(new CacheNamespace("m", layout.fingerprint(), "t", 1, 2), c.namespace(layout));
    }

    @Test
    void theShorthandsMakeTheTiersListDiskFirst() {
        LmCacheConfig c = LmCacheConfig.builder().localDisk(Path.of("/var/cache/kv")).remoteUrl("redis://cache:6379").build();
        assertEquals(java.util.List.of("file:///var/cache/kv", "redis://cache:6379"), c.slowerTiers());
        assertEquals(java.util.List.of(), c.tiers());
        assertEquals(java.util.List.of(), LmCacheConfig.builder().noLocalDisk().build().slowerTiers());
    }

    @Test
    void lmcacheTiersIsTheOrderedListAndReplacesTheDefaultDiskTier() {
        LmCacheConfig c = LmCacheConfig.builder()
                .fromEnvironment(Map.of("LMCACHE_TIERS", " file:///var/cache/kv , redis://:secret@cache:6379,")).build();
        assertEquals(java.util.List.of("file:///var/cache/kv", "redis://:secret@cache:6379"), c.slowerTiers());
        assertEquals(Optional.empty(), c.localDisk(), "the default disk tier is replaced by the list");
        assertFalse(c.toString().contains("secret"), c.toString());
        assertEquals(c, c.toBuilder().build());
    }

    @Test
    void lmcacheTiersWithAShorthandIsAnErrorNamingBoth() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> LmCacheConfig.builder()
                .fromEnvironment(Map.of("LMCACHE_TIERS", "file:///a", "LMCACHE_REMOTE_URL", "redis://h:1")).build());
        assertTrue(e.getMessage().startsWith("tiers: [file:///a] with localDisk off and remoteUrl redis://h:1 (expected: either"),
                e.getMessage());
    }

    @Test
    void aTierWithoutASchemeIsAnError() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> LmCacheConfig.builder().tiers("/var/cache/kv").build());
        assertEquals("tiers: '/var/cache/kv' (expected: a URL with a scheme, such as file:///var/cache/kv or"
                + " redis://cache:6379)", e.getMessage());
    }

    @Test
    void codecVariablesAddACodecOptionToTheShorthandTiersOnly() {
        LmCacheConfig c = LmCacheConfig.builder().localDisk(java.nio.file.Path.of("/var/cache/kv"))
                .fromEnvironment(Map.of("LMCACHE_DISK_CODEC", "Shuffle+Zstd", "LMCACHE_REMOTE_CODEC", "shuffle+lz4",
                        "LMCACHE_REMOTE_URL", "redis://cache:6379?parts=4m#x")).build();
        assertEquals("shuffle+zstd", c.diskCodec());
        assertEquals(java.util.List.of("file:///var/cache/kv?codec=shuffle+zstd", "redis://cache:6379?parts=4m&codec=shuffle+lz4#x"),
                c.slowerTiers());
        assertEquals(c, c.toBuilder().build());
        LmCacheConfig plain = LmCacheConfig.builder().localDisk(java.nio.file.Path.of("/var/cache/kv")).build();
        assertEquals("raw", plain.diskCodec());
        assertEquals(java.util.List.of("file:///var/cache/kv"), plain.slowerTiers(), "raw adds nothing");
    }

    @Test
    void aCodecVariableWithATiersListOrABadNameIsAnError() {
        IllegalArgumentException withList = assertThrows(IllegalArgumentException.class, () -> LmCacheConfig.builder()
                .fromEnvironment(Map.of("LMCACHE_TIERS", "file:///a", "LMCACHE_DISK_CODEC", "int8")).build());
        assertTrue(withList.getMessage().contains("codec= option"), withList.getMessage());
        IllegalArgumentException both = assertThrows(IllegalArgumentException.class, () -> LmCacheConfig.builder()
                .fromEnvironment(Map.of("LMCACHE_REMOTE_URL", "redis://h:1?codec=int8", "LMCACHE_REMOTE_CODEC", "shuffle+lz4")).build());
        assertTrue(both.getMessage().contains("not both"), both.getMessage());
        IllegalArgumentException off = assertThrows(IllegalArgumentException.class,
                () -> LmCacheConfig.builder().remoteCodec("shuffle+lz4").build());
        assertTrue(off.getMessage().contains("a codec only for a tier that is on"), off.getMessage());
        IllegalArgumentException bad = assertThrows(IllegalArgumentException.class,
                () -> LmCacheConfig.builder().diskCodec("zstd&x=1").build());
        assertTrue(bad.getMessage().startsWith("diskCodec: 'zstd&x=1' (expected: a codec name"), bad.getMessage());
    }
}
