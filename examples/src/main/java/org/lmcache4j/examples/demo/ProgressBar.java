package org.lmcache4j.examples.demo;

import java.io.PrintStream;
import java.util.Locale;

/**
 * A one-line progress bar on stderr, in work units (prefill tokens). On a terminal it redraws in place
 * at most ten times a second; otherwise it prints one line per step, so logs stay readable.
 */
final class ProgressBar {

    private static final int WIDTH = 30;

    private final PrintStream out;
    private final boolean terminal;
    private final boolean enabled;
    private final long startNanos = System.nanoTime();
    private long total;
    private long done;
    private long stepBase;
    private String step = "";
    private long lastDrawNanos;

    ProgressBar(PrintStream out, boolean enabled, long total) {
        this.out = out;
        this.enabled = enabled;
        this.terminal = System.console() != null && System.console().isTerminal();
        this.total = Math.max(1, total);
    }

    /** Starts a step named {@code label}; its progress is reported relative to the work done so far. */
    synchronized void step(String label) {
        stepBase = done;
        step = label;
        if (enabled && !terminal) {
            out.printf(Locale.ROOT, "[%3d%%] %s%n", percent(), label);
        }
        draw(true);
    }

    /** Sets the current step's progress to {@code units} (a step may report its own count from zero). */
    synchronized void stepProgress(long units) {
        done = Math.max(done, stepBase + units);
        draw(false);
    }

    /** Ends the bar at 100 %. */
    synchronized void finish() {
        done = total;
        step = "done";
        draw(true);
        if (enabled && terminal) {
            out.println();
        }
    }

    private int percent() {
        return (int) Math.min(100, done * 100 / total);
    }

    private void draw(boolean force) {
        if (!enabled || !terminal) {
            return;
        }
        long now = System.nanoTime();
        if (!force && now - lastDrawNanos < 100_000_000L) {
            return;
        }
        lastDrawNanos = now;
        int filled = (int) Math.min(WIDTH, done * WIDTH / total);
        long seconds = (now - startNanos) / 1_000_000_000L;
        String label = step.length() > 44 ? step.substring(0, 44) : step;
        out.printf(Locale.ROOT, "\r[%s%s] %3d%% %d:%02d %-44s", "#".repeat(filled), "-".repeat(WIDTH - filled), percent(),
                seconds / 60, seconds % 60, label);
        out.flush();
    }
}
