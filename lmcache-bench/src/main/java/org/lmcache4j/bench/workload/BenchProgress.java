package org.lmcache4j.bench.workload;

import java.io.PrintStream;
import java.util.Locale;
import java.util.function.IntConsumer;

/**
 * A one-line progress bar of a workload benchmark on stderr: requests done over requests planned (all
 * runs), the run it is in, the elapsed time, and the current stage (a workload, or a ratio measurement).
 */
final class BenchProgress {

    private final PrintStream out;
    private final int total;
    private final int runs;
    private final long startNanos = System.nanoTime();
    private int run = 1;
    private int base;
    private int done;
    private String stage = "";

    /** A bar for {@code total} requests over {@code runs} runs. */
    BenchProgress(PrintStream out, int total, int runs) {
        this.out = out;
        this.total = Math.max(1, total);
        this.runs = runs;
    }

    /** Starts run {@code run} (from 1). */
    synchronized void startRun(int run) {
        this.run = run;
    }

    /** A workload stage called {@code name}: the returned consumer is told the requests it has done. */
    IntConsumer stage(String name) {
        int start;
        synchronized (this) {
            start = base;
            stage = name;
        }
        draw();
        return requests -> {
            synchronized (this) {
                done = Math.max(done, start + requests);
                base = Math.max(base, done);
            }
            draw();
        };
    }

    /** A stage without requests (a ratio measurement): only the label changes. */
    void note(String what) {
        synchronized (this) {
            stage = what;
        }
        draw();
    }

    /** Ends the bar's line with one of {@code summary}, so the next run starts on a new line. */
    synchronized void endRun(String summary) {
        out.printf(Locale.ROOT, "%n%s%n", summary);
    }

    /** Ends the bar's line. */
    void done() {
        out.println();
    }

    private synchronized void draw() {
        int pct = (int) (100L * done / total);
        long seconds = (System.nanoTime() - startNanos) / 1_000_000_000L;
        String label = (runs > 1 ? "run " + run + "/" + runs + ": " : "") + stage;
        out.printf(Locale.ROOT, "\r[%-25s] %3d%% %d:%02d %-56s", "#".repeat(pct / 4), pct, seconds / 60, seconds % 60,
                label.length() > 56 ? label.substring(0, 56) : label);
    }
}
