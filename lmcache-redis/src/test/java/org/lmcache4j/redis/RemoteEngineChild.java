package org.lmcache4j.redis;

import java.lang.foreign.Arena;
import org.lmcache4j.api.KvConnector;
import org.lmcache4j.redis.RemoteEngines.Prompt;

/**
 * Child-process main of {@link RemoteSharingIT}: an engine with a cpu tier and the remote tier at a URL.
 *
 * <pre>
 *   store    URL SEED TOKENS   stores the seeded prompt, closes (draining write-behind), prints "stored N"
 *   retrieve URL SEED TOKENS   retrieves it into fresh memory, checks every byte, prints "retrieved N"
 * </pre>
 */
public final class RemoteEngineChild {

    private RemoteEngineChild() {
    }

    public static void main(String[] args) {
        String url = args[1];
        long seed = Long.parseLong(args[2]);
        int n = Integer.parseInt(args[3]);
        try (Arena arena = Arena.ofShared();
             KvConnector engine = RemoteEngines.open(RemoteEngines.config(), url)) {
            Prompt p = Prompt.of(arena, seed, n);
            switch (args[0]) {
                case "store" -> System.out.println("stored " + engine.store(p.tokens(), p.kv(), p.slots()));
                case "retrieve" -> System.out.println("retrieved " + p.retrieveAndCheck(arena, engine));
                default -> throw new IllegalArgumentException("mode: " + args[0] + " (expected: store or retrieve)");
            }
        }
        System.out.flush();
    }
}
