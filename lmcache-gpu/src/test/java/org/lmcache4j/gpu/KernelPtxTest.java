package org.lmcache4j.gpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The committed device code ({@code src/main/resources/org/lmcache4j/gpu/}: {@code kv_copy.ptx} for sm_80,
 * {@code kv_copy_sm90.ptx}, {@code kv_copy.fatbin}) is what {@code scripts/build-kernels.sh} makes of the current
 * {@code kv_copy.cu}: each records the source's hash (checked everywhere), and a fresh nvcc build is identical,
 * byte for byte (checked where nvcc is on the PATH).
 */
class KernelPtxTest {

    private static final Path MODULE = Path.of(System.getProperty("basedir", "."));
    private static final Path SCRIPT = MODULE.resolve("scripts/build-kernels.sh");
    private static final String REBUILD = "run lmcache-gpu/scripts/build-kernels.sh and commit the PTX";

    private static String committedPtx() {
        return new String(KvCopyKernels.ptx(), StandardCharsets.UTF_8); // the resource the engine loads
    }

    @Test
    void committedPtxRecordsTheHashOfTheCurrentSource() throws IOException, NoSuchAlgorithmException {
        String first = committedPtx().lines().findFirst().orElse("");
        String hash = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(CpuKernels.KERNEL_SOURCE)));
        assertEquals("// lmcache4j kv_copy.cu sha256 " + hash, first, "kv_copy.ptx is stale against kv_copy.cu: " + REBUILD);
    }

    @Test
    void theSm90PtxAndTheFatbinRecordTheHashOfTheCurrentSource() throws IOException, NoSuchAlgorithmException {
        String hash = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(CpuKernels.KERNEL_SOURCE)));
        String sm90 = new String(KvCopyKernels.resource("kv_copy_sm90.ptx"), StandardCharsets.UTF_8);
        assertEquals("// lmcache4j kv_copy.cu sha256 " + hash, sm90.lines().findFirst().orElse(""), "kv_copy_sm90.ptx: " + REBUILD);
        assertTrue(sm90.contains("\n.target sm_90\n"), "target sm_90");
        assertEquals(hash + "  kv_copy.cu\n", new String(KvCopyKernels.resource("kv_copy.fatbin.sha256"), StandardCharsets.UTF_8),
                "kv_copy.fatbin: " + REBUILD);
        byte[] fatbin = KvCopyKernels.resource("kv_copy.fatbin");
        assertTrue(fatbin.length > 1024, "a fatbin image");
        assertEquals(List.of("kv_copy.fatbin", "kv_copy_sm90.ptx", "kv_copy.ptx"), KvCopyKernels.IMAGES, "the order images are tried");
    }

    @Test
    void committedPtxHasBothKernelsForSm80WithTheArgsStructAsTheirParameter() {
        String ptx = committedPtx();
        assertTrue(ptx.contains("\n.target sm_80\n"), "target sm_80");
        for (String kernel : new String[] {KvCopyKernels.GATHER, KvCopyKernels.SCATTER}) {
            Matcher m = Pattern.compile("\\.visible \\.entry " + kernel + "\\(\\s*\\.param \\.align (\\d+) \\.b8 " + kernel
                    + "_param_0\\[(\\d+)]\\s*\\)").matcher(ptx);
            assertTrue(m.find(), kernel + " with one by-value parameter");
            assertEquals(KvCopyArgs.LAYOUT.byteAlignment(), Long.parseLong(m.group(1)), kernel + " parameter alignment (nvcc vs Java)");
            assertEquals(KvCopyArgs.LAYOUT.byteSize(), Long.parseLong(m.group(2)), kernel + " parameter size (nvcc vs Java)");
        }
        assertTrue(ptx.contains("ld.global.v4.u32"), "16-byte accesses are compiled in");
    }

    @Test
    void committedPtxIsWhatNvccMakesOfTheSourceNow(@TempDir Path dir) throws IOException, InterruptedException {
        assumeTrue(onPath("nvcc"), "nvcc is not on the PATH: the committed PTX cannot be rebuilt here "
                + "(the source-hash check still ran)");
        Process p = new ProcessBuilder("bash", SCRIPT.toString(), dir.toString()).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
            fail("build-kernels.sh failed:\n" + output);
        }
        Path fresh = dir.resolve("kv_copy.ptx");
        if (!Files.readString(fresh).equals(committedPtx())) {
            fail("kv_copy.ptx differs from a fresh build of kv_copy.cu (" + nvccRelease(Files.readString(fresh)) + " here, "
                    + nvccRelease(committedPtx()) + " in the committed file): " + REBUILD);
        }
        for (String name : List.of("kv_copy_sm90.ptx", "kv_copy.fatbin", "kv_copy.fatbin.sha256")) {
            assertArrayEquals(KvCopyKernels.resource(name), Files.readAllBytes(dir.resolve(name)),
                    name + " differs from a fresh build of kv_copy.cu: " + REBUILD);
        }
    }

    private static String nvccRelease(String ptx) {
        return ptx.lines().filter(l -> l.startsWith("// Cuda compilation tools")).findFirst().orElse("unknown nvcc").substring(3);
    }

    private static boolean onPath(String program) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            if (Files.isExecutable(Path.of(dir.isEmpty() ? "." : dir, program))) {
                return true;
            }
        }
        return false;
    }
}
