package org.lmcache4j.redis;

import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.lmcache4j.testing.RedisServer;
import redis.clients.jedis.UnifiedJedis;

/**
 * A real redis-server on 127.0.0.1 for the remote tier's tests, with a raw client to look at and damage what a
 * tier stored, and remote tiers on it, each in a namespace of its own and closed after the test. Registered
 * in a static field ({@code @RegisterExtension static final LocalRedis redis = new LocalRedis(PART)}) it is one
 * server for the whole class; in an instance field, a fresh server for every test (tests that kill it).
 *
 * <p>The setup the tier tests all repeated: start the server, open a raw client, build tiers from its URL
 * with a part size, close them after each test, stop it all at the end.
 */
final class LocalRedis implements BeforeAllCallback, BeforeEachCallback, AfterEachCallback, AfterAllCallback {

    private final int partBytes;
    private final List<RemoteTier> opened = new ArrayList<>();
    private RedisServer server;
    private UnifiedJedis raw;
    private boolean perTest;

    /** A server whose tiers cut chunks into parts of {@code partBytes}. */
    LocalRedis(int partBytes) {
        this.partBytes = partBytes;
    }

    /** A server whose tiers take the URL's default part size. */
    LocalRedis() {
        this(RemoteUrl.DEFAULT_PART_BYTES);
    }

    @Override
    public void beforeAll(ExtensionContext context) {
        start();
    }

    @Override
    public void beforeEach(ExtensionContext context) {
        if (server == null) {
            perTest = true; // registered in an instance field: no beforeAll, one server per test
            start();
        }
    }

    @Override
    public void afterEach(ExtensionContext context) {
        try {
            opened.forEach(RemoteTier::close);
            opened.clear();
        } finally {
            if (perTest) {
                stop();
            }
        }
    }

    @Override
    public void afterAll(ExtensionContext context) {
        stop();
    }

    private void start() {
        server = RedisServer.start();
    }

    private void stop() {
        try {
            if (raw != null) {
                raw.close();
            }
        } finally {
            raw = null;
            if (server != null) {
                server.close();
            }
            server = null;
        }
    }

    /** The server: its URL, {@code MONITOR}, raw commands, kill and restart. */
    RedisServer server() {
        return server;
    }

    /** The server's URL, {@code redis://127.0.0.1:<port>}. */
    String url() {
        return server.url();
    }

    /** A client of the server outside any tier, for looking at and damaging stored keys; opened on first use. */
    UnifiedJedis raw() {
        if (raw == null) {
            raw = RedisLink.open(RemoteUrl.parse(server.url()));
        }
        return raw;
    }

    /** Closes the raw client, whose connections the server may have closed; the next {@link #raw()} opens another. */
    void dropRaw() {
        if (raw != null) {
            raw.close();
            raw = null;
        }
    }

    /** A tier in {@code namespace}, its URL with the part size and {@code options} ({@code "&ttlSeconds=1"}); closed after the test. */
    RemoteTier tier(String namespace, String options) {
        RemoteTier t = new RemoteTier(RemoteUrl.parse(url() + "?partBytes=" + partBytes + options), namespace,
                RemoteTierContractTest.FINGERPRINT, System::nanoTime);
        opened.add(t);
        return t;
    }

    /** A tier in a namespace of its own, its URL with the part size and {@code options}; closed after the test. */
    RemoteTier tier(String options) {
        return tier(UUID.randomUUID().toString().substring(0, 8), options);
    }
}
