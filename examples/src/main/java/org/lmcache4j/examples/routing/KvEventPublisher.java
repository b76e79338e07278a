package org.lmcache4j.examples.routing;

import java.util.concurrent.BlockingQueue;
import org.lmcache4j.api.ChunkEvent;
import org.lmcache4j.api.KvEventListener;

/**
 * Publishes a connector's chunk events as text lines for a router, the way vLLM publishes KV events
 * (BlockStored / BlockRemoved / AllBlocksCleared) over ZMQ for llm-d. One line per event:
 * {@code instance<TAB>sequence<TAB>type<TAB>tier<TAB>key<TAB>parent<TAB>start<TAB>end}. The transport here
 * is a queue (standing in for a PUB socket); offering never blocks the engine: a full queue drops the
 * event, and the router notices the gap in sequence numbers.
 */
public final class KvEventPublisher implements KvEventListener {

    private final String instance;
    private final BlockingQueue<String> bus;

    public KvEventPublisher(String instance, BlockingQueue<String> bus) {
        this.instance = instance;
        this.bus = bus;
    }

    @Override
    public void onChunkEvent(ChunkEvent e) {
        bus.offer(String.join("\t", instance, Long.toString(e.sequence()), e.type().name(), e.tier(),
                e.key() == null ? "-" : e.key().toString(), e.parent().map(Object::toString).orElse("-"),
                Integer.toString(e.startToken()), Integer.toString(e.endToken())));
    }
}
