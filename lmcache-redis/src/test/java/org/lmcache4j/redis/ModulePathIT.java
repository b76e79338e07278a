package org.lmcache4j.redis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The libraries' module-info files hold on the module path, where the tests (on the class path) never put
 * them: a small program of its own module, compiled and run with {@code lmcache-api}, {@code lmcache-storage}
 * and {@code lmcache-redis} as named modules, opens a connector through {@code ServiceLoader}, stores a prompt
 * through a {@code file://} tier and retrieves it byte for byte, finds the {@code redis} scheme's provider (by
 * service binding alone: nothing requires lmcache-redis), computes keys with the exported {@code PrefixKeys},
 * and cannot reach the storage module's internal packages, neither at compile time nor by reflection.
 */
class ModulePathIT {

    /** One class of each module the program needs at run time; its jar (or classes directory) goes on the module path. */
    private static final List<String> MODULE_ANCHORS = List.of(
            "org.lmcache4j.api.KvConnector",
            "org.lmcache4j.storage.keys.PrefixKeys",
            "org.lmcache4j.nativeio.Libc",
            "org.lmcache4j.redis.RedisTierProvider",
            "org.slf4j.LoggerFactory",
            "org.slf4j.simple.SimpleServiceProvider",
            "net.openhft.hashing.LongHashFunction",
            "com.github.benmanes.caffeine.cache.Caffeine",
            "redis.clients.jedis.Jedis",
            "org.apache.commons.pool2.ObjectPool",
            "net.jpountz.lz4.LZ4Factory");

    private static final String MODULE_INFO = """
            module probe {
                requires org.lmcache4j.storage;
            }
            """;

    private static final String PROBE = """
            package probe;

            import java.lang.foreign.Arena;
            import java.lang.foreign.MemorySegment;
            import java.nio.file.Path;
            import java.util.ArrayList;
            import java.util.List;
            import java.util.Map;
            import org.lmcache4j.api.HostKvMemory;
            import org.lmcache4j.api.KvConnector;
            import org.lmcache4j.api.KvConnectors;
            import org.lmcache4j.api.KvDtype;
            import org.lmcache4j.api.KvLayout;
            import org.lmcache4j.api.LmCacheConfig;
            import org.lmcache4j.api.TierStats;
            import org.lmcache4j.api.spi.StorageTiers;
            import org.lmcache4j.storage.keys.PrefixKeys;

            public final class Probe {
                public static void main(String[] args) throws Exception {
                    KvLayout layout = KvLayout.standard(2, 2, 8, KvDtype.FP16);
                    LmCacheConfig config = LmCacheConfig.builder()
                            .fromEnvironment(Map.of("LMCACHE_TIERS", Path.of(args[0]).toUri().toString()))
                            .modelId("probe").chunkTokens(16).maxLocalCpuBytes(1 << 20).maxLocalDiskBytes(1 << 20).build();
                    int tokenCount = 32;
                    int[] tokens = new int[tokenCount];
                    int[] slots = new int[tokenCount];
                    for (int i = 0; i < tokenCount; i++) {
                        tokens[i] = 1000 + i;
                        slots[i] = i;
                    }
                    try (Arena arena = Arena.ofConfined(); KvConnector connector = KvConnectors.open(config, layout)) {
                        System.out.println("connector module: " + connector.getClass().getModule().getName());
                        System.out.println("tiers: " + connector.stats().tiers().stream().map(TierStats::name).toList());
                        HostKvMemory stored = memory(arena, layout, tokenCount, (byte) 7);
                        HostKvMemory retrieved = memory(arena, layout, tokenCount, (byte) 0);
                        System.out.println("stored tokens: " + connector.store(tokens, stored, slots));
                        System.out.println("retrieved tokens: " + connector.retrieve(tokens, retrieved, slots));
                        boolean same = true;
                        for (int layer = 0; layer < layout.numLayers(); layer++) {
                            for (int plane = 0; plane < layout.planes(); plane++) {
                                same &= stored.plane(layer, plane).mismatch(retrieved.plane(layer, plane)) == -1;
                            }
                        }
                        System.out.println("bytes equal: " + same);
                    }
                    System.out.println("file provider module: "
                            + StorageTiers.provider("file:///tmp/kv").getClass().getModule().getName());
                    System.out.println("redis provider module: "
                            + StorageTiers.provider("redis://127.0.0.1:6379").getClass().getModule().getName());
                    System.out.println("prefix keys: " + PrefixKeys.of(config, layout).keys(tokens).size());
                    Module storage = PrefixKeys.class.getModule();
                    List<String> exported = new ArrayList<>();
                    for (String p : storage.getPackages().stream().sorted().toList()) {
                        if (storage.isExported(p)) {
                            exported.add(p);
                        }
                    }
                    System.out.println("exported: " + exported);
                    try {
                        Class.forName("org.lmcache4j.storage.cpu.CpuTier").getConstructor(long.class, long.class)
                                .newInstance(4096L, 4096L);
                        System.out.println("internal CpuTier: constructed");
                    } catch (IllegalAccessException e) {
                        System.out.println("internal CpuTier: IllegalAccessException");
                    }
                }

                /** Contiguous host KV of {@code tokens} tokens, every byte {@code fill} plus its offset. */
                private static HostKvMemory memory(Arena arena, KvLayout layout, int tokens, byte fill) {
                    List<MemorySegment> keys = new ArrayList<>();
                    List<MemorySegment> values = new ArrayList<>();
                    for (int layer = 0; layer < layout.numLayers(); layer++) {
                        keys.add(filled(arena, layout.chunkBytes(tokens) / layout.numLayers() / 2, fill, layer));
                        values.add(filled(arena, layout.chunkBytes(tokens) / layout.numLayers() / 2, fill, layer + 100));
                    }
                    return HostKvMemory.contiguous(layout, keys, values);
                }

                private static MemorySegment filled(Arena arena, long bytes, byte fill, int salt) {
                    MemorySegment s = arena.allocate(bytes, 64);
                    for (long i = 0; i < bytes; i++) {
                        s.set(java.lang.foreign.ValueLayout.JAVA_BYTE, i, fill == 0 ? 0 : (byte) (fill + salt + i));
                    }
                    return s;
                }
            }
            """;

    private static final String INTERNAL_USER = """
            package probe;

            public final class InternalUser {
                org.lmcache4j.storage.engine.TieredConnectorProvider provider;
            }
            """;

    @TempDir
    static Path work;

    private static String modulePath;

    @BeforeAll
    static void libraries() throws Exception {
        Set<String> entries = new LinkedHashSet<>();
        for (String anchor : MODULE_ANCHORS) {
            Class<?> c = Class.forName(anchor, false, ModulePathIT.class.getClassLoader());
            entries.add(location(c));
        }
        modulePath = String.join(File.pathSeparator, entries);
    }

    private static String location(Class<?> c) throws URISyntaxException {
        assertNotNull(c.getProtectionDomain().getCodeSource(), "no code source for " + c);
        return Path.of(c.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
    }

    @Test
    void theProgramRunsOnTheModulePathAndSeesOnlyTheExportedPackages() throws Exception {
        Path src = work.resolve("src/probe");
        Files.createDirectories(src.resolve("probe"));
        Files.writeString(src.resolve("module-info.java"), MODULE_INFO);
        Files.writeString(src.resolve("probe/Probe.java"), PROBE);
        Path classes = work.resolve("classes/probe");
        CompileResult compiled = compile(classes, src.resolve("module-info.java"), src.resolve("probe/Probe.java"));
        assertEquals(0, compiled.exitCode(), compiled.output());

        Path disk = Files.createDirectories(work.resolve("disk"));
        List<String> out = run(classes, disk);
        assertEquals(List.of(
                "connector module: org.lmcache4j.storage",
                "tiers: [cpu, disk]",
                "stored tokens: 32",
                "retrieved tokens: 32",
                "bytes equal: true",
                "file provider module: org.lmcache4j.storage",
                "redis provider module: org.lmcache4j.redis",
                "prefix keys: 2",
                "exported: [org.lmcache4j.storage.admin, org.lmcache4j.storage.keys, org.lmcache4j.storage.metrics,"
                        + " org.lmcache4j.storage.tier]",
                "internal CpuTier: IllegalAccessException"), out);
    }

    @Test
    void codeOfAnotherModuleDoesNotCompileAgainstAnInternalPackage() throws Exception {
        Path src = work.resolve("src/internal");
        Files.createDirectories(src.resolve("probe"));
        Files.writeString(src.resolve("module-info.java"), MODULE_INFO);
        Files.writeString(src.resolve("probe/InternalUser.java"), INTERNAL_USER);
        CompileResult compiled = compile(work.resolve("classes/internal"), src.resolve("module-info.java"),
                src.resolve("probe/InternalUser.java"));
        assertFalse(compiled.exitCode() == 0, "compiled against a package lmcache-storage does not export");
        assertTrue(compiled.output().contains("package org.lmcache4j.storage.engine is not visible"), compiled.output());
    }

    private record CompileResult(int exitCode, String output) {
    }

    private static CompileResult compile(Path classes, Path... sources) {
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        assertNotNull(javac, "a JDK's compiler (javax.tools)");
        List<String> args = new ArrayList<>(List.of("--module-path", modulePath, "-d", classes.toString(), "-proc:none"));
        for (Path s : sources) {
            args.add(s.toString());
        }
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = javac.run(null, err, err, args.toArray(String[]::new));
        return new CompileResult(code, err.toString(StandardCharsets.UTF_8));
    }

    private static List<String> run(Path classes, Path disk) throws IOException, InterruptedException {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        Process p = new ProcessBuilder(java.toString(), "-Xmx256m",
                "--enable-native-access=org.lmcache4j.nativeio,org.lmcache4j.storage",
                "--sun-misc-unsafe-memory-access=allow",
                "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
                "--module-path", classes + File.pathSeparator + modulePath,
                "-m", "probe/probe.Probe", disk.toString())
                .redirectError(ProcessBuilder.Redirect.INHERIT)
                .start();
        String stdout = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the program ended");
        assertEquals(0, p.exitValue(), "the program's exit code; its output: " + stdout);
        return stdout.lines().toList();
    }
}
