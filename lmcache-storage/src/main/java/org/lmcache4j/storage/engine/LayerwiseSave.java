package org.lmcache4j.storage.engine;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.Consumer;
import org.lmcache4j.api.LayerwiseStorage;
import org.lmcache4j.storage.copy.EngineKvCopier;
import org.lmcache4j.storage.cpu.ChunkPage;
import org.lmcache4j.storage.hash.PromptChunks;

/**
 * A {@code storeLayerwise} in progress: the new chunks of the prompt, each with its cpu page reserved (or, without
 * a cpu tier, a buffer of its own) when the call began; each layer the engine announces is copied into them on the
 * {@link LayerwiseCopies} thread, and after the last layer they are published in order, as {@code store} publishes
 * them. Abandoned (closed early) or failed, it releases the pages and publishes nothing.
 */
final class LayerwiseSave implements LayerwiseStorage {

    /** A chunk to store: its index in the prompt and where its bytes go (a reserved cpu page, or a buffer). */
    record Planned(int index, ChunkPage page, MemorySegment buffer) {
        MemorySegment memory() {
            return page != null ? page.memory() : buffer;
        }
    }

    /** Runs a step on the copy thread under the connector's open guard; false (not run) once the connector is closed. */
    @FunctionalInterface
    interface IfOpen {
        boolean run(Runnable step);
    }

    private final PromptStore storer;
    private final PromptChunks chunks;
    private final List<Planned> planned;
    private final Arena buffers; // the buffers of a connector without a cpu tier; null with one
    private final EngineKvCopier engineKv;
    private final int[] slots;
    private final int layers;
    private final LayerwiseCopies copies;
    private final IfOpen ifOpen;
    private final Consumer<Integer> onStored;
    private final CompletableFuture<Integer> result = new CompletableFuture<>();
    private int nextLayer; // guarded by this
    private boolean closed; // guarded by this
    private boolean released; // only on the copy thread

    LayerwiseSave(PromptStore storer, PromptChunks chunks, List<Planned> planned, Arena buffers, EngineKvCopier engineKv,
                  int[] slots, int layers, LayerwiseCopies copies, IfOpen ifOpen, Consumer<Integer> onStored) {
        this.storer = storer;
        this.chunks = chunks;
        this.planned = List.copyOf(planned);
        this.buffers = buffers;
        this.engineKv = engineKv;
        this.slots = slots;
        this.layers = layers;
        this.copies = copies;
        this.ifOpen = ifOpen;
        this.onStored = onStored;
    }

    /** Starts tracking this store with the copy thread: a connector closed before its last layer ends it. */
    LayerwiseSave start() {
        Runnable ender = () -> fail(new IllegalStateException("KvConnector closed before every layer was stored"));
        try {
            copies.track(ender);
        } catch (IllegalStateException closing) {
            releaseAll();
            throw closing;
        }
        result.whenComplete((stored, failure) -> copies.untrack(ender));
        return this;
    }

    @Override
    public void layerDone(int layer) {
        synchronized (this) {
            if (closed) {
                throw new IllegalStateException("layerwise store closed (expected: layerDone before close())");
            }
            LayerwiseCopies.requireNextLayer(layer, nextLayer, layers);
            boolean last = layer == layers - 1;
            copies.submit(() -> { // throws once the connector is closing: this layer is then not taken
                if (!result.isDone() && !ifOpen.run(() -> copyLayer(layer, last))) {
                    fail(new IllegalStateException("KvConnector closed before layer " + layer + " was stored"));
                }
            });
            nextLayer++;
        }
    }

    private void copyLayer(int layer, boolean last) {
        try {
            for (Planned p : planned) {
                engineKv.gatherLayer(slots, chunks.start(p.index()), chunks.end(p.index()), p.memory(), layer);
            }
            if (last) {
                result.complete(publish());
            }
        } catch (Throwable t) {
            fail(t);
        }
    }

    /** Publishes every planned chunk in order, then frees the buffers; the tokens stored. */
    private int publish() {
        released = true;
        int stored = publish(storer, chunks, planned, buffers);
        onStored.accept(stored);
        return stored;
    }

    /**
     * Publishes {@code planned} in order (a chunk no tier takes ends the stored prefix; the rest are released) and
     * closes {@code buffers}; the tokens stored.
     */
    static int publish(PromptStore storer, PromptChunks chunks, List<Planned> planned, Arena buffers) {
        int stored = 0;
        boolean taking = true;
        for (Planned p : planned) {
            if (!taking) {
                release(p);
                continue;
            }
            if (p.page() != null) {
                stored += storer.publish(chunks, p.index(), p.page());
            } else if (storer.publishSlower(chunks, p.index(), p.buffer())) {
                stored += chunks.end(p.index()) - chunks.start(p.index());
            } else {
                taking = false;
            }
        }
        if (buffers != null) {
            buffers.close();
        }
        return stored;
    }

    /** Releases every planned page and closes {@code buffers}: nothing of the store is published. */
    static void release(List<Planned> planned, Arena buffers) {
        for (Planned p : planned) {
            release(p);
        }
        if (buffers != null) {
            buffers.close();
        }
    }

    private void fail(Throwable why) {
        if (result.isDone()) {
            return;
        }
        releaseAll();
        result.completeExceptionally(why);
    }

    private void releaseAll() {
        if (released) {
            return;
        }
        released = true;
        release(planned, buffers);
    }

    private static void release(Planned p) {
        if (p.page() != null) {
            p.page().release();
        }
    }

    @Override
    public int join() {
        synchronized (this) {
            if (nextLayer < layers) {
                throw new IllegalStateException("layerwise store: " + nextLayer + " of " + layers + " layers done"
                        + (closed ? " and closed" : "") + " (expected: every layer done before join())");
            }
        }
        try {
            return joinUninterruptibly();
        } catch (CompletionException e) {
            Throwable cause = e.getCause() == null ? e : e.getCause();
            if (cause instanceof RuntimeException r) {
                throw r;
            }
            if (cause instanceof Error err) {
                throw err;
            }
            throw new IllegalStateException("layerwise store failed: " + cause, cause);
        }
    }

    private int joinUninterruptibly() {
        boolean interrupted = Thread.interrupted();
        try {
            while (true) {
                try {
                    return result.get();
                } catch (InterruptedException e) {
                    interrupted = true;
                } catch (java.util.concurrent.ExecutionException e) {
                    throw new CompletionException(e.getCause());
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    @Override
    public void close() {
        boolean abandon;
        synchronized (this) {
            if (closed) {
                abandon = false;
            } else {
                closed = true;
                abandon = nextLayer < layers;
            }
        }
        if (abandon) {
            int announced = nextLayerSnapshot();
            try {
                copies.submit(() -> fail(new IllegalStateException("layerwise store closed after " + announced + " of "
                        + layers + " layers: nothing stored")));
            } catch (IllegalStateException closing) {
                // the connector is closing: it ends this store once its copy thread has stopped
            }
        }
        try {
            joinUninterruptibly();
        } catch (CompletionException e) {
            // closing never throws: join reports the failure
        }
    }

    private synchronized int nextLayerSnapshot() {
        return nextLayer;
    }
}
