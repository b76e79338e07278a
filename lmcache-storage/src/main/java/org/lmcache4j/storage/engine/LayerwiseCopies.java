package org.lmcache4j.storage.engine;

import java.util.List;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The connector's thread for layer-by-layer copies ({@code retrieveLayerwise}, {@code storeLayerwise}): one
 * daemon thread that runs their steps in the order they were queued, so that a load's layer {@code l} is in
 * engine memory before its layer {@code l + 1}, and a store's layers are copied before it publishes.
 *
 * <p>{@link #close()} takes no new steps, waits until the queued ones have run, then ends the calls that still
 * wait for steps that can no longer come (a store whose engine has not announced every layer): they fail and
 * release what they hold. So no layerwise copy touches engine memory after the connector's close returns.
 */
final class LayerwiseCopies implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(LayerwiseCopies.class);
    private static final long CLOSE_WAIT_MILLIS = 30_000;
    private static final Runnable END = () -> { };

    private final BlockingQueue<Runnable> queue = new LinkedBlockingQueue<>();
    private final Thread worker = Thread.ofPlatform().daemon().name("lmcache-layerwise").unstarted(this::work);
    private final Set<Runnable> unfinished = ConcurrentHashMap.newKeySet();
    private boolean started; // guarded by this
    private volatile boolean closing;

    /** Refuses a layer that is not one of {@code layers} ({@code awaitLayer}'s argument). */
    static void requireLayer(int layer, int layers) {
        if (layer < 0 || layer >= layers) {
            throw new IllegalArgumentException("layer: " + layer + " (expected: 0 to " + (layers - 1) + ")");
        }
    }

    /** Refuses a layer announced out of order ({@code layerDone}'s argument): {@code next} is the one expected. */
    static void requireNextLayer(int layer, int next, int layers) {
        if (layer != next) {
            throw new IllegalArgumentException("layer: " + layer + " (expected: " + next + ", the next layer"
                    + (next == layers ? "; all " + layers + " are done" : "") + ")");
        }
    }

    /** The thread that copies: engine memory must be accessible by it. */
    Thread thread() {
        return worker;
    }

    /** True once {@link #close()} has begun. */
    boolean closing() {
        return closing;
    }

    /**
     * Queues {@code step}; it runs even after close has begun (to fail its call and release what it holds).
     *
     * @throws IllegalStateException once close has begun
     */
    synchronized void submit(Runnable step) {
        if (closing) {
            throw new IllegalStateException("KvConnector closed (expected: calls before close())");
        }
        if (!started) {
            worker.start();
            started = true;
        }
        queue.add(step);
    }

    /**
     * Tracks a call that needs more steps from its engine: {@code ender} runs at close, after the thread has
     * ended, unless the call was {@link #untrack untracked} first.
     *
     * @throws IllegalStateException once close has begun
     */
    synchronized void track(Runnable ender) {
        if (closing) {
            throw new IllegalStateException("KvConnector closed (expected: calls before close())");
        }
        unfinished.add(ender);
    }

    void untrack(Runnable ender) {
        unfinished.remove(ender);
    }

    private void work() {
        while (true) {
            Runnable step;
            try {
                step = queue.take();
            } catch (InterruptedException e) {
                continue; // only close ends this thread, after the last step
            }
            if (step == END) {
                return;
            }
            try {
                step.run();
            } catch (Throwable t) { // each step fails its own call; the thread must go on for the others
                LOG.warn("a layerwise copy step failed", t);
            }
        }
    }

    @Override
    public void close() {
        boolean wasStarted;
        synchronized (this) {
            if (closing) {
                return;
            }
            closing = true;
            wasStarted = started;
            queue.add(END);
        }
        if (wasStarted) {
            try {
                worker.join(CLOSE_WAIT_MILLIS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            if (worker.isAlive()) {
                LOG.warn("the layerwise copy thread still runs {} ms after close began", CLOSE_WAIT_MILLIS);
            }
        }
        for (Runnable ender : List.copyOf(unfinished)) {
            ender.run();
        }
    }
}
