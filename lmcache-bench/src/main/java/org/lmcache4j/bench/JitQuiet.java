package org.lmcache4j.bench;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Waits until the JIT compiler threads have stopped working: the demo and the bench run on two cores, and a
 * C2 compile still running from earlier work takes one of them away from a measured one (a profile of the
 * demo's first cpu hit showed C2 threads with more samples than the retrieve's own threads; in
 * {@code bench --quick} the compilers took 9-11% of the samples of the disk reads of runs whose
 * {@code disk_read_vs_raw_ratio} was 1.54-1.56, 3% in a run at 1.16). A long-running server is past this
 * point; a demo or bench run of minutes is not. The demo waits before each scenario's uncached request,
 * which the cached one follows at once, as on a busy server (in runs that also waited right before the
 * cached request, its retrieve started on cores left idle and its ratio to a plain copy was higher), and
 * the restart child waits before its measured reads; {@code QuickBench} and {@code CodecBench} run their
 * steps on until it is idle ({@link #runUntilQuiet}). The wait is never part of a TTFT or a timed figure.
 *
 * <p>On Linux it watches the compiler threads' CPU time in {@code /proc/self/task}, which moves while a
 * compile runs; elsewhere the JVM's total compile time, which moves only when a compile ends.
 */
public final class JitQuiet {

    /** How long the compiler must stay idle to call it idle. */
    private static final long QUIET_MILLIS = 150;
    /** The longest wait: a compiler busy for longer than this is left to run. */
    private static final long MAX_WAIT_MILLIS = 3_000;
    private static final long POLL_MILLIS = 25;
    private static final Path TASKS = Path.of("/proc/self/task");

    private JitQuiet() {
    }

    /** Returns once the compiler has been idle for {@value #QUIET_MILLIS} ms, or after {@value #MAX_WAIT_MILLIS} ms. */
    public static void await() {
        long deadline = System.nanoTime() + MAX_WAIT_MILLIS * 1_000_000;
        Idle idle = new Idle();
        while (System.nanoTime() < deadline) {
            try {
                Thread.sleep(POLL_MILLIS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
            if (idle.longEnough(System.nanoTime())) {
                return;
            }
        }
    }

    /**
     * Runs {@code pass} again and again: {@code minPasses} times and for {@code minMillis} ms at least, then
     * until the compiler has been idle for {@value #QUIET_MILLIS} ms while it ran, or for at most
     * {@value #MAX_WAIT_MILLIS} ms more. A warm-up that keeps its cores busy: {@link #await} sleeps, and a
     * measurement that starts on cores just woken from idle is not the steady state it means to measure.
     */
    public static void runUntilQuiet(Runnable pass, int minPasses, long minMillis) {
        if (minPasses < 0 || minMillis < 0) {
            throw new IllegalArgumentException("minPasses: " + minPasses + ", minMillis: " + minMillis + " (expected: >= 0)");
        }
        long start = System.nanoTime();
        Idle idle = new Idle();
        for (int passes = 0; ; passes++) {
            long now = System.nanoTime();
            boolean quiet = idle.longEnough(now);
            boolean warmed = passes >= minPasses && now - start >= minMillis * 1_000_000;
            if (warmed && (quiet || now - start >= (minMillis + MAX_WAIT_MILLIS) * 1_000_000)) {
                return;
            }
            pass.run();
        }
    }

    /** How long the compiler has been idle, from samples of {@link #compilerWork}. */
    private static final class Idle {
        private long last = compilerWork();
        private long since = System.nanoTime();

        /** Samples the compiler's work at {@code now}: true when it has not moved for {@value #QUIET_MILLIS} ms. */
        boolean longEnough(long now) {
            long work = compilerWork();
            if (work != last) {
                last = work;
                since = now;
                return false;
            }
            return now - since >= QUIET_MILLIS * 1_000_000;
        }
    }

    /** A number that grows while the JIT compiles: its threads' CPU ticks, or the total compile time. */
    private static long compilerWork() {
        if (Files.isDirectory(TASKS)) {
            long ticks = 0;
            try (DirectoryStream<Path> tasks = Files.newDirectoryStream(TASKS)) {
                for (Path task : tasks) {
                    ticks += compilerTicks(task.resolve("stat"));
                }
                return ticks;
            } catch (IOException | RuntimeException e) {
                // fall through to the portable measure
            }
        }
        var jit = ManagementFactory.getCompilationMXBean();
        return jit != null && jit.isCompilationTimeMonitoringSupported() ? jit.getTotalCompilationTime() : 0;
    }

    private static long compilerTicks(Path stat) {
        try {
            return compilerTicks(Files.readString(stat));
        } catch (IOException e) {
            return 0; // the thread ended between listing and reading
        }
    }

    /**
     * utime + stime from one {@code /proc/<pid>/task/<tid>/stat} line when the thread is a JIT compiler
     * thread (its name starts with C1 or C2 and names the compiler), else 0.
     */
    static long compilerTicks(String statLine) {
        int open = statLine.indexOf('(');
        int close = statLine.lastIndexOf(')');
        if (open < 0 || close < open) {
            return 0;
        }
        String name = statLine.substring(open + 1, close);
        if (!(name.startsWith("C1 ") || name.startsWith("C2 ")) || !name.contains("Compiler")) {
            return 0;
        }
        String[] fields = statLine.substring(close + 2).trim().split(" ");
        // after "(name) " comes the state, the stat file's field 3; utime and stime are its fields 14 and 15
        return Long.parseLong(fields[11]) + Long.parseLong(fields[12]);
    }
}
