package org.lmcache4j.api.spi;

/**
 * A tier cannot be used now, and the connector runs without it rather than failing to open (logged with
 * this message): its directory is held by another connector of the same identity, say. Thrown by
 * {@link StorageTierProvider#open}; a malformed URL is an {@link IllegalArgumentException} instead.
 */
public class TierUnavailableException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final String tierName;

    /**
     * @param tierName the name the tier would have had ({@link StorageTier#name()})
     * @param message  what is in the way, naming the place
     * @param cause    the failure behind it, or null
     */
    public TierUnavailableException(String tierName, String message, Throwable cause) {
        super(message, cause);
        this.tierName = tierName;
    }

    /** The name the tier would have had ({@link StorageTier#name()}). */
    public String tierName() {
        return tierName;
    }
}
