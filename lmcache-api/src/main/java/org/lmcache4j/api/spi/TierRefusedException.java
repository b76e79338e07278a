package org.lmcache4j.api.spi;

/**
 * A tier holds KV recorded under another cache identity than the connector's (another model, layout,
 * chunk size, hash, tenant or rank) and must not serve it. The connector runs without the tier and reports
 * it in its stats as unhealthy with this message, so an operator sees why it is not used.
 */
public class TierRefusedException extends TierUnavailableException {

    private static final long serialVersionUID = 1L;

    /** As {@link TierUnavailableException#TierUnavailableException}. */
    public TierRefusedException(String tierName, String message, Throwable cause) {
        super(tierName, message, cause);
    }
}
