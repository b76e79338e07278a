package org.lmcache4j.storage.engine;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.IntUnaryOperator;
import org.lmcache4j.api.DeviceKvMemory;
import org.lmcache4j.api.LayerwiseRetrieval;
import org.lmcache4j.api.LayerwiseStorage;
import org.lmcache4j.api.spi.ChunkCopy;
import org.lmcache4j.api.spi.DeviceCopyEngine;
import org.lmcache4j.api.spi.LayerwiseRetrieve;
import org.lmcache4j.api.spi.LayerwiseStore;

/**
 * The connector's layerwise calls on device-resident KV: the device copy engine's own layerwise copies (queued on
 * its streams, ordered against the engine's stream by events), wrapped so that the chunks a retrieve reads stay held,
 * and the pages a store fills are published, when the engine's handle is closed. The connector's close ends them too.
 */
final class DeviceLayerwise {

    private DeviceLayerwise() {
    }

    /** A retrieve of {@code pieces}, every layer queued now; tokens before {@code writeFrom} are not written. */
    static LayerwiseRetrieval retrieve(DeviceCopyEngine device, DeviceKvMemory kv, int[] slots, int writeFrom,
                                       List<LayerwiseLoad.Piece> pieces, int retrievedTokens, LayerwiseCopies copies) {
        int[] written = slots.clone();
        Arrays.fill(written, 0, Math.min(writeFrom, written.length), -1); // the engine holds these already
        List<ChunkCopy> chunks = new ArrayList<>();
        for (LayerwiseLoad.Piece p : pieces) {
            chunks.add(new ChunkCopy(p.from(), p.to(), p.buffer().segment()));
        }
        LayerwiseRetrieve r;
        try {
            r = device.retrieveLayerwise(chunks, kv, written, kv.engineStream());
        } catch (RuntimeException e) {
            release(pieces);
            throw e;
        }
        Ender ender = new Ender(() -> {
            try {
                r.close();
            } finally {
                release(pieces); // a failed copy's chunks are let go too
            }
        });
        track(copies, ender);
        return new LayerwiseRetrieval() {
            @Override
            public int retrievedTokens() {
                return retrievedTokens;
            }

            @Override
            public void awaitLayer(int layer) {
                LayerwiseCopies.requireLayer(layer, kv.layout().numLayers());
                if (ender.ended()) {
                    throw new IllegalStateException("layer " + layer + " was not loaded: the layerwise retrieve is closed");
                }
                r.awaitLayer(layer);
            }

            @Override
            public void close() {
                try {
                    ender.run();
                } catch (RuntimeException failedCopy) {
                    // awaitLayer reports a failed copy; close never throws for one (LayerwiseRetrieval's contract)
                } finally {
                    copies.untrack(ender);
                }
            }
        };
    }

    /**
     * A store into {@code planned} chunk memory, each layer gathered as the engine announces it; after the last layer,
     * {@code publish} publishes the chunks (returning the tokens stored); closed early, {@code release} frees them.
     * Owns that memory from the call on: a failure here frees it too.
     */
    static LayerwiseStorage store(DeviceCopyEngine device, DeviceKvMemory kv, int[] slots, List<ChunkCopy> planned,
                                  IntUnaryOperator publish, Runnable release, LayerwiseCopies copies) {
        LayerwiseStore s;
        try {
            s = device.storeLayerwise(kv, slots, planned, kv.engineStream());
        } catch (RuntimeException e) {
            release.run();
            throw e;
        }
        int layers = kv.layout().numLayers();
        int[] next = {0};
        Integer[] stored = {null};
        RuntimeException[] failure = {null}; // the device copy's first failure: join throws it, nothing is published
        Ender ender = new Ender(() -> {
            try {
                s.close();
            } catch (RuntimeException e) {
                synchronized (next) {
                    if (failure[0] == null) {
                        failure[0] = e;
                    }
                }
            }
            synchronized (next) {
                if (failure[0] == null && next[0] == layers && stored[0] == null) {
                    stored[0] = publish.applyAsInt(0);
                    return;
                }
            }
            release.run();
        });
        track(copies, ender);
        return new LayerwiseStorage() {
            @Override
            public void layerDone(int layer) {
                synchronized (next) {
                    if (ender.ended()) {
                        throw new IllegalStateException("layerwise store closed (expected: layerDone before close())");
                    }
                    LayerwiseCopies.requireNextLayer(layer, next[0], layers);
                    if (failure[0] == null) {
                        try {
                            s.layerComputed(layer);
                        } catch (RuntimeException e) { // a launch failed: join reports it, as the host path's does
                            failure[0] = e;
                        }
                    }
                    next[0]++;
                }
            }

            @Override
            public int join() {
                synchronized (next) {
                    if (next[0] < layers) {
                        throw new IllegalStateException("layerwise store: " + next[0] + " of " + layers + " layers done"
                                + (ender.ended() ? " and closed" : "") + " (expected: every layer done before join())");
                    }
                }
                try {
                    ender.run();
                } finally {
                    copies.untrack(ender);
                }
                synchronized (next) {
                    if (failure[0] != null) {
                        throw failure[0];
                    }
                    if (stored[0] == null) {
                        throw new IllegalStateException("KvConnector closed before the layerwise store was published");
                    }
                    return stored[0];
                }
            }

            @Override
            public void close() {
                try {
                    ender.run();
                } finally {
                    copies.untrack(ender);
                }
            }
        };
    }

    /** Tracks a call with the connector's copy thread; when the connector is closing already, ends it and says so. */
    private static void track(LayerwiseCopies copies, Ender ender) {
        try {
            copies.track(ender);
        } catch (IllegalStateException closing) {
            ender.run(); // the device call and the memory it holds are let go at once
            throw closing;
        }
    }

    private static void release(List<LayerwiseLoad.Piece> pieces) {
        for (LayerwiseLoad.Piece p : pieces) {
            try {
                p.buffer().close();
            } catch (RuntimeException e) {
                // the tier counts its own failure
            }
        }
    }

    /** Runs its action once, whoever comes first: the engine's close or join, or the connector's close. */
    private static final class Ender implements Runnable {
        private final Runnable action;
        private volatile boolean ended; // read without the lock: layerDone holds its own

        Ender(Runnable action) {
            this.action = action;
        }

        @Override
        public synchronized void run() {
            if (!ended) {
                ended = true;
                action.run();
            }
        }

        boolean ended() {
            return ended;
        }
    }
}
