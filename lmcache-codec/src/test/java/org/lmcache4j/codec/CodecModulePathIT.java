package org.lmcache4j.codec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The module's {@code provides} clause holds on the module path, where the tests (on the class path) never
 * put it: a program of its own module that requires only {@code org.lmcache4j.api} finds the lossless codecs by
 * service binding, round-trips a chunk through each ({@code shuffle+nibble} on its scalar kernel: the
 * program does not add {@code jdk.incubator.vector}), and does so without JDK 25's restricted-method warning
 * when given {@code --enable-native-access} for zstd-jni's and lz4-java's modules (the flag the README
 * should name for module-path users).
 */
class CodecModulePathIT {

    /** One class of each module the program needs; its jar or classes directory goes on the module path. */
    private static final List<String> MODULE_ANCHORS = List.of("org.lmcache4j.api.KvLayout", "org.lmcache4j.codec.ShuffleZstdCodec",
            "com.github.luben.zstd.Zstd", "net.jpountz.lz4.LZ4Factory", "org.slf4j.Logger");

    private static final String MODULE_INFO = """
            module probe {
                requires org.lmcache4j.api;
            }
            """;

    private static final String PROBE = """
            package probe;

            import java.lang.foreign.Arena;
            import java.lang.foreign.MemorySegment;
            import java.lang.foreign.ValueLayout;
            import org.lmcache4j.api.KvDtype;
            import org.lmcache4j.api.KvLayout;
            import org.lmcache4j.api.spi.KvCodec;
            import org.lmcache4j.api.spi.KvCodecs;

            public final class Probe {
                public static void main(String[] args) {
                    KvLayout layout = KvLayout.standard(2, 2, 64, KvDtype.BF16);
                    for (String name : new String[] {"shuffle+lz4", "shuffle+zstd", "shuffle+nibble"}) {
                        KvCodec codec = KvCodecs.byName(name);
                        try (Arena arena = Arena.ofConfined()) {
                            MemorySegment chunk = arena.allocate(layout.chunkBytes(64));
                            for (long i = 0; i < chunk.byteSize(); i += 2) {
                                chunk.set(ValueLayout.JAVA_BYTE, i, (byte) (i % 7));
                            }
                            MemorySegment encoded = arena.allocate(codec.maxEncodedBytes(layout, chunk.byteSize()));
                            long length = codec.encode(layout, chunk, encoded);
                            MemorySegment decoded = arena.allocate(chunk.byteSize());
                            codec.decode(layout, encoded.asSlice(0, length), decoded);
                            System.out.println(name + " (id " + codec.id() + ") from " + codec.getClass().getModule().getName()
                                    + ": shrunk " + (length > 0 && length < chunk.byteSize()) + ", bytes equal "
                                    + (decoded.mismatch(chunk) == -1));
                        }
                    }
                }
            }
            """;

    @TempDir
    Path work;

    @Test
    void theLosslessCodecsAreFoundByServiceBindingAndRoundTripWithoutNativeAccessWarnings() throws Exception {
        List<String> entries = new ArrayList<>();
        for (String anchor : MODULE_ANCHORS) {
            Class<?> c = Class.forName(anchor, false, CodecModulePathIT.class.getClassLoader());
            assertNotNull(c.getProtectionDomain().getCodeSource(), "no code source for " + c);
            entries.add(Path.of(c.getProtectionDomain().getCodeSource().getLocation().toURI()).toString());
        }
        String modulePath = String.join(File.pathSeparator, entries);
        Path src = Files.createDirectories(work.resolve("src/probe"));
        Files.writeString(work.resolve("src/module-info.java"), MODULE_INFO);
        Files.writeString(src.resolve("Probe.java"), PROBE);
        Path classes = work.resolve("classes");
        // javac as a process: this module's tests are compiled into the module, which does not read java.compiler
        Path bin = Path.of(System.getProperty("java.home"), "bin");
        Process javac = new ProcessBuilder(bin.resolve("javac").toString(), "--module-path", modulePath, "-d", classes.toString(),
                "-proc:none", work.resolve("src/module-info.java").toString(), src.resolve("Probe.java").toString())
                .redirectErrorStream(true).start();
        String compileOutput = new String(javac.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(javac.waitFor(120, TimeUnit.SECONDS), "javac ended");
        assertEquals(0, javac.exitValue(), compileOutput);

        Process p = new ProcessBuilder(bin.resolve("java").toString(), "-Xmx256m",
                "--enable-native-access=com.github.luben.zstd_jni,org.lz4.java",
                "--module-path", classes + File.pathSeparator + modulePath, "-m", "probe/probe.Probe")
                .redirectError(work.resolve("stderr.txt").toFile()).start();
        String stdout = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the program ended");
        String stderr = Files.readString(work.resolve("stderr.txt"));
        assertEquals(0, p.exitValue(), "exit code; stdout: " + stdout + "; stderr: " + stderr);
        assertEquals(List.of(
                "shuffle+lz4 (id 1) from org.lmcache4j.codec: shrunk true, bytes equal true",
                "shuffle+zstd (id 2) from org.lmcache4j.codec: shrunk true, bytes equal true",
                // without jdk.incubator.vector in the module graph: the scalar kernel
                "shuffle+nibble (id 5) from org.lmcache4j.codec: shrunk true, bytes equal true"), stdout.lines().toList());
        assertFalse(stderr.contains("WARNING"), stderr);
    }
}
