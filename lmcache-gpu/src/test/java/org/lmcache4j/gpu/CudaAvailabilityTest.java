package org.lmcache4j.gpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

class CudaAvailabilityTest {

    /**
     * An oracle independent of the probe: the directories the dynamic loader searches that hold
     * {@code libcuda.so.1} ({@code LD_LIBRARY_PATH}, {@code /etc/ld.so.conf.d}, the default directories).
     */
    private static List<Path> driverFilesOnLoaderPath() {
        List<String> dirs = new ArrayList<>();
        String ldPath = System.getenv("LD_LIBRARY_PATH");
        if (ldPath != null) {
            dirs.addAll(List.of(ldPath.split(":")));
        }
        Path conf = Path.of("/etc/ld.so.conf.d");
        if (Files.isDirectory(conf)) {
            try (DirectoryStream<Path> files = Files.newDirectoryStream(conf, "*.conf")) {
                for (Path f : files) {
                    try (Stream<String> lines = Files.lines(f)) {
                        lines.map(String::trim).filter(l -> l.startsWith("/")).forEach(dirs::add);
                    }
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        dirs.addAll(List.of("/lib", "/usr/lib", "/lib64", "/usr/lib64", "/lib/x86_64-linux-gnu",
                "/usr/lib/x86_64-linux-gnu", "/lib/aarch64-linux-gnu", "/usr/lib/aarch64-linux-gnu"));
        return dirs.stream().filter(d -> !d.isBlank()).map(d -> Path.of(d, "libcuda.so.1"))
                .filter(Files::exists).distinct().toList();
    }

    @Test
    void withoutADriverTheLibraryIsAbsentAndTheReasonNamesIt() {
        List<Path> found = driverFilesOnLoaderPath();
        assumeTrue(found.isEmpty(), () -> "this machine has a CUDA driver (" + found
                + "); the gpu-tagged test covers it");
        assertEquals(Optional.empty(), CudaAvailability.driverLibrary());
        String reason = CudaAvailability.unavailableReason();
        assertTrue(reason.startsWith("CUDA driver library libcuda.so.1 cannot be loaded ("), reason);
        assertTrue(reason.endsWith("): no NVIDIA driver on this machine"), reason);
    }

    @Test
    void probedOnce() {
        assertSame(CudaAvailability.driverLibrary(), CudaAvailability.driverLibrary());
        assertSame(CudaAvailability.unavailableReason(), CudaAvailability.unavailableReason());
        assertEquals(CudaAvailability.driverLibrary().isEmpty(), !CudaAvailability.unavailableReason().isEmpty(),
                "a reason exactly when the driver is absent");
    }

    @Test
    @Tag("gpu")
    void withADriverTheLibraryIsPresent() {
        List<Path> found = driverFilesOnLoaderPath();
        assumeTrue(!found.isEmpty(), "no libcuda.so.1 on the loader path: this test needs a machine with an "
                + "NVIDIA driver (CudaAvailability says: " + CudaAvailability.unavailableReason() + ")");
        assertEquals(Optional.of("libcuda.so.1"), CudaAvailability.driverLibrary(), CudaAvailability::unavailableReason);
        assertEquals("", CudaAvailability.unavailableReason());
    }
}
