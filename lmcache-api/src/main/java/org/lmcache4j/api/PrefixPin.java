package org.lmcache4j.api;

/**
 * The result of {@link KvConnector#lookupAndPin(int[])}: the cached prefix length, whose chunks stay
 * pinned until {@link #close()} or the pin timeout. Closing twice is harmless.
 */
public interface PrefixPin extends AutoCloseable {

    /** Prefix tokens found (and pinned) at lookup time. */
    int tokens();

    /** Unpins the chunks. */
    @Override
    void close();
}
