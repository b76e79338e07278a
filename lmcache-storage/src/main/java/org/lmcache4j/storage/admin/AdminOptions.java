package org.lmcache4j.storage.admin;

import java.util.Optional;

/**
 * How the admin endpoint listens.
 *
 * @param bindAddress      address to bind; loopback ({@code 127.0.0.1}) by default
 * @param port             TCP port; 0 picks a free one
 * @param bearerToken      when present, every request must carry {@code Authorization: Bearer <token>}; never
 *                         blank (a blank token is refused, not taken for none: it would turn authentication off)
 * @param allowNonLoopback must be true to bind anything but a loopback address
 */
public record AdminOptions(String bindAddress, int port, Optional<String> bearerToken, boolean allowNonLoopback) {

    public AdminOptions {
        if (bindAddress == null || bindAddress.isBlank()) {
            throw new IllegalArgumentException("bindAddress: '" + bindAddress + "' (expected: an address such as 127.0.0.1)");
        }
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port: " + port + " (expected: 0 to 65535)");
        }
        bearerToken = bearerToken == null ? Optional.empty() : bearerToken;
        if (bearerToken.isPresent() && bearerToken.get().isBlank()) {
            throw new IllegalArgumentException("bearerToken: blank (expected: a non-blank token, or "
                    + "Optional.empty() for none, which leaves the endpoint without authentication)");
        }
    }

    /** Loopback, a free port, no token. */
    public static AdminOptions loopback() {
        return new AdminOptions("127.0.0.1", 0, Optional.empty(), false);
    }

    /**
     * These options with a bearer token required.
     *
     * @throws IllegalArgumentException when {@code token} is null or blank
     */
    public AdminOptions withBearerToken(String token) {
        if (token == null) {
            throw new IllegalArgumentException("bearerToken: null (expected: a non-blank token)");
        }
        return new AdminOptions(bindAddress, port, Optional.of(token), allowNonLoopback);
    }

    /** The options with the token masked, for logs. */
    @Override
    public String toString() {
        return "AdminOptions[bindAddress=" + bindAddress + ", port=" + port + ", bearerToken="
                + (bearerToken.isPresent() ? "***" : "none") + ", allowNonLoopback=" + allowNonLoopback + "]";
    }
}
