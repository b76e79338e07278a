package org.lmcache4j.gpu;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * The CPU build of {@code src/main/cuda/kv_copy.cu}: the very same source compiled by g++ with
 * {@code cuda_cpu_shim.h} into a shared library at test time (once per JVM), called through FFM. Its
 * {@code *_cpu} entry points run a kernel's whole grid as loops.
 *
 * <p>There is no skipping: without g++ every test using it fails with a message saying how to get it
 * ({@code .ci/run} installs it).
 */
final class CpuKernels {

    static final Path CUDA_SOURCES = Path.of(System.getProperty("basedir", "."), "src", "main", "cuda");
    static final Path KERNEL_SOURCE = CUDA_SOURCES.resolve("kv_copy.cu");

    /** What g++ is given, as the module's README documents it. */
    static final List<String> GXX_FLAGS = List.of("-O2", "-shared", "-fPIC", "-x", "c++", "-std=c++17", "-Wall", "-Wextra");

    /** The compiled library, or why there is none (kept, so every test using it fails with the same message). */
    private static final class Holder {
        static final Object RESULT = compileOrReason();

        private static Object compileOrReason() {
            try {
                return new CpuKernels(compile());
            } catch (AssertionError e) {
                return e.getMessage();
            }
        }
    }

    private final MethodHandle gather;
    private final MethodHandle scatter;
    private final MethodHandle argsLayout;

    @SuppressWarnings("restricted") // loading the library we just compiled and linking its functions
    private CpuKernels(Path library) {
        SymbolLookup lookup = SymbolLookup.libraryLookup(library, Arena.global());
        Linker linker = Linker.nativeLinker();
        FunctionDescriptor launch = FunctionDescriptor.ofVoid(ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT);
        gather = linker.downcallHandle(lookup.findOrThrow("lmc_kv_gather_cpu"), launch);
        scatter = linker.downcallHandle(lookup.findOrThrow("lmc_kv_scatter_cpu"), launch);
        argsLayout = linker.downcallHandle(lookup.findOrThrow("lmc_kv_copy_args_layout"),
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
    }

    /** The CPU kernels; an {@link AssertionError} saying what is missing when they cannot be built. */
    static CpuKernels get() {
        if (Holder.RESULT instanceof CpuKernels kernels) {
            return kernels;
        }
        throw new AssertionError(Holder.RESULT);
    }

    /** Runs the gather ({@code gather}) or scatter kernel's grid for {@code args} on this thread. */
    void run(KvCopyArgs args, boolean gather) {
        try (Arena arena = Arena.ofConfined()) {
            launch(gather, args.write(arena), args.gridX(), args.gridY(), KvCopyArgs.BLOCK_THREADS);
        }
    }

    /** Runs a kernel's grid with {@code parameter}, the bytes of a {@code KvCopyArgs}. */
    void launch(boolean gather, MemorySegment parameter, int gridX, int gridY, int blockX) {
        try {
            (gather ? this.gather : this.scatter).invokeExact(parameter, gridX, gridY, blockX);
        } catch (Throwable t) {
            throw new AssertionError("CPU kernel call failed", t);
        }
    }

    /** {@code sizeof(KvCopyArgs)}, then every field's {@code offsetof}, as the C++ compiler laid them out. */
    long[] argsLayout() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(JAVA_LONG, 64);
            int n = (int) argsLayout.invokeExact(out, 64);
            return out.asSlice(0, n * 8L).toArray(JAVA_LONG);
        } catch (Throwable t) {
            throw new AssertionError("lmc_kv_copy_args_layout failed", t);
        }
    }

    /** The g++ on the PATH, if any. */
    static Optional<Path> gxx() {
        String path = System.getenv().getOrDefault("PATH", "");
        for (String dir : path.split(File.pathSeparator)) {
            Path candidate = Path.of(dir.isEmpty() ? "." : dir, "g++");
            if (Files.isExecutable(candidate)) {
                return Optional.of(candidate);
            }
        }
        return Optional.empty();
    }

    private static Path compile() {
        Path gxx = gxx().orElseThrow(() -> new AssertionError("g++ not found on the PATH: the CPU emulation of the CUDA "
                + "kernels compiles " + KERNEL_SOURCE + " with it (install it with `apt-get install g++`; .ci/run does)"));
        try {
            Path dir = Files.createTempDirectory("lmcache-kv-copy-cpu");
            dir.toFile().deleteOnExit();
            Path library = dir.resolve("libkv_copy_cpu.so");
            List<String> command = new ArrayList<>(List.of(gxx.toString()));
            command.addAll(GXX_FLAGS);
            command.addAll(List.of("-I", CUDA_SOURCES.toString(), "-o", library.toString(), KERNEL_SOURCE.toString()));
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new AssertionError("compiling the kernels for the CPU failed: " + String.join(" ", command) + "\n" + output);
            }
            library.toFile().deleteOnExit();
            return library;
        } catch (IOException e) {
            throw new UncheckedIOException("compiling " + KERNEL_SOURCE, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted while compiling " + KERNEL_SOURCE, e);
        }
    }
}
