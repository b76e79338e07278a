package org.lmcache4j.storage.engine;

import java.util.List;
import org.lmcache4j.api.LayerwiseRetrieval;
import org.lmcache4j.api.spi.ChunkBuffer;
import org.lmcache4j.storage.copy.EngineKvCopier;

/**
 * A {@code retrieveLayerwise} in progress: the chunks of the prefix, held open since the call, copied into
 * engine memory one layer at a time on the {@link LayerwiseCopies} thread; each layer announced to
 * {@link #awaitLayer} as it lands. The chunk buffers are released after the last layer, or when the load fails.
 */
final class LayerwiseLoad implements LayerwiseRetrieval {

    /** One chunk of the prefix: its buffer and its tokens. */
    record Piece(ChunkBuffer buffer, int from, int to) {
    }

    private final List<Piece> pieces;
    private final EngineKvCopier engineKv;
    private final int[] slots;
    private final int writeFrom;
    private final int layers;
    private final int retrievedTokens;
    private int layersDone; // guarded by this
    private boolean finished; // guarded by this: every layer landed, or the load failed; buffers released
    private Throwable failure; // guarded by this

    LayerwiseLoad(List<Piece> pieces, EngineKvCopier engineKv, int[] slots, int writeFrom, int layers, int retrievedTokens) {
        this.pieces = List.copyOf(pieces);
        this.engineKv = engineKv;
        this.slots = slots;
        this.writeFrom = writeFrom;
        this.layers = layers;
        this.retrievedTokens = retrievedTokens;
    }

    @Override
    public int retrievedTokens() {
        return retrievedTokens;
    }

    /** On the copy thread: layer {@code layer} of every chunk into engine memory. */
    void copyLayer(int layer) {
        synchronized (this) {
            if (finished) {
                return;
            }
        }
        try {
            for (Piece p : pieces) {
                engineKv.scatterLayer(p.buffer().segment(), slots, p.from(), p.to(), writeFrom, layer);
            }
        } catch (Throwable t) {
            fail(t);
            return;
        }
        boolean last;
        synchronized (this) {
            layersDone = layer + 1;
            last = layersDone == layers;
            notifyAll();
        }
        if (last) {
            finish(null);
        }
    }

    /** On the copy thread: the load cannot go on (a copy failed, or the connector closed); later layers never land. */
    void fail(Throwable why) {
        finish(why);
    }

    private void finish(Throwable why) {
        synchronized (this) {
            if (finished) {
                return;
            }
            failure = why;
        }
        for (Piece p : pieces) {
            try {
                p.buffer().close();
            } catch (RuntimeException e) {
                // the tier counts its own failure; the layers that landed are still right
            }
        }
        synchronized (this) {
            finished = true;
            notifyAll();
        }
    }

    @Override
    public void awaitLayer(int layer) {
        LayerwiseCopies.requireLayer(layer, layers);
        synchronized (this) {
            awaitWhile(() -> layersDone <= layer && !finished);
            if (layersDone <= layer) {
                throw new IllegalStateException("layer " + layer + " was not loaded: " + failure, failure);
            }
        }
    }

    @Override
    public void close() {
        synchronized (this) {
            awaitWhile(() -> !finished);
        }
    }

    /** Waits on this (held) while {@code condition}, not giving up on interrupts: engine memory is being written. */
    private void awaitWhile(java.util.function.BooleanSupplier condition) {
        boolean interrupted = false;
        while (condition.getAsBoolean()) {
            try {
                wait();
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }
}
