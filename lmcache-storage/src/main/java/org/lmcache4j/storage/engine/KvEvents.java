package org.lmcache4j.storage.engine;

import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.LongAdder;
import org.lmcache4j.api.ChunkEvent;
import org.lmcache4j.api.ChunkKey;
import org.lmcache4j.api.KvEventListener;
import org.lmcache4j.api.MissReason;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Delivers a connector's chunk events and operation timings to its listeners. Chunk events get their
 * sequence number and are delivered under one lock, so every listener sees them in sequence order; with
 * no listener nothing is built or locked. A listener that throws is logged (once) and counted, never
 * allowed to reach the engine. Chunks leaving a tier are also recorded in the connector's
 * {@link Departures}, listeners or not, so misses can be explained.
 */
final class KvEvents {

    private static final Logger LOG = LoggerFactory.getLogger(KvEvents.class);

    private final Departures departures;
    private final List<KvEventListener> listeners = new CopyOnWriteArrayList<>();
    private final LongAdder listenerErrors = new LongAdder();
    private long sequence;

    KvEvents(Departures departures) {
        this.departures = departures;
    }

    KvEvents() {
        this(new Departures(Departures.DEFAULT_CAPACITY));
    }

    /** Where chunks that left a tier are remembered. */
    Departures departures() {
        return departures;
    }

    /** Adds a listener; the returned handle removes it. */
    AutoCloseable subscribe(KvEventListener listener) {
        if (listener == null) {
            throw new IllegalArgumentException("listener: null (expected: a KvEventListener)");
        }
        // a holder of its own, so each subscription ends once and only itself (the same listener may be subscribed twice)
        KvEventListener subscribed = new Subscribed(listener);
        listeners.add(subscribed);
        java.util.concurrent.atomic.AtomicBoolean ended = new java.util.concurrent.atomic.AtomicBoolean();
        return () -> {
            if (ended.compareAndSet(false, true)) {
                listeners.remove(subscribed);
            }
        };
    }

    void stored(String tier, ChunkKey key, ChunkKey parent, int startToken, int endToken) {
        chunk(ChunkEvent.Type.STORED, tier, key, parent, startToken, endToken);
    }

    void stored(String tier, ChunkKey key) {
        chunk(ChunkEvent.Type.STORED, tier, key, null, -1, -1);
    }

    void evicted(String tier, ChunkKey key) {
        departures.record(key, MissReason.EVICTED, tier);
        chunk(ChunkEvent.Type.EVICTED, tier, key, null, -1, -1);
    }

    /** {@code tier} found {@code key} damaged and dropped it: an eviction for listeners, a corrupt chunk for misses. */
    void corrupt(String tier, ChunkKey key) {
        departures.record(key, MissReason.CORRUPT, tier);
        chunk(ChunkEvent.Type.EVICTED, tier, key, null, -1, -1);
    }

    /** A retrieve served chunk {@code key}, tokens {@code [startToken, endToken)}, from {@code tier}, as a lossy codec stored it. */
    void servedLossy(String tier, ChunkKey key, int startToken, int endToken) {
        chunk(ChunkEvent.Type.SERVED_LOSSY, tier, key, null, startToken, endToken);
    }

    void cleared() {
        departures.clear();
        chunk(ChunkEvent.Type.CLEARED, "*", null, null, -1, -1);
    }

    void operation(KvEventListener.Operation operation, long nanos, int tokens, int hitTokens) {
        for (KvEventListener l : listeners) {
            try {
                l.onOperation(operation, nanos, tokens, hitTokens);
            } catch (RuntimeException e) {
                failed(l, e);
            }
        }
    }

    /** Listener calls that threw. */
    long listenerErrors() {
        return listenerErrors.sum();
    }

    private void chunk(ChunkEvent.Type type, String tier, ChunkKey key, ChunkKey parent, int start, int end) {
        if (listeners.isEmpty()) {
            return;
        }
        synchronized (this) {
            ChunkEvent event = new ChunkEvent(++sequence, type, tier, key, Optional.ofNullable(parent), start, end);
            for (KvEventListener l : listeners) {
                try {
                    l.onChunkEvent(event);
                } catch (RuntimeException e) {
                    failed(l, e);
                }
            }
        }
    }

    /** One subscription of a listener: removed by identity, whatever the listener's equals says. */
    private record Subscribed(KvEventListener listener) implements KvEventListener {

        @Override
        public void onChunkEvent(ChunkEvent event) {
            listener.onChunkEvent(event);
        }

        @Override
        public void onOperation(Operation operation, long nanos, int tokens, int hitTokens) {
            listener.onOperation(operation, nanos, tokens, hitTokens);
        }

        @Override
        public boolean equals(Object o) {
            return this == o;
        }

        @Override
        public int hashCode() {
            return System.identityHashCode(this);
        }

        @Override
        public String toString() {
            return listener.toString();
        }
    }

    private void failed(KvEventListener listener, RuntimeException e) {
        listenerErrors.increment();
        if (listenerErrors.sum() == 1) {
            LOG.warn("KV event listener {} threw (counted; further failures are not logged): {}", listener, e.toString(), e);
        }
    }
}
