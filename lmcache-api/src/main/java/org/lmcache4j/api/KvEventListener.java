package org.lmcache4j.api;

/**
 * Receives a connector's chunk events and operation timings. Called on the thread that caused the
 * event (an engine thread, the write-behind thread), so it must be quick and must not call back into
 * the connector; hand work to a queue of your own. An exception thrown here is logged and counted,
 * never passed to the engine. Default methods do nothing.
 */
public interface KvEventListener {

    /** A chunk was stored, evicted, or everything was cleared; events of one connector arrive in sequence order per thread. */
    default void onChunkEvent(ChunkEvent event) {
    }

    /**
     * An engine call finished.
     *
     * @param operation which call
     * @param nanos     how long it took
     * @param tokens    tokens the call was about
     * @param hitTokens the prefix found (lookup), stored (store) or retrieved (retrieve)
     */
    default void onOperation(Operation operation, long nanos, int tokens, int hitTokens) {
    }

    /** The engine calls that are timed. */
    enum Operation {
        LOOKUP,
        STORE,
        RETRIEVE
    }
}
