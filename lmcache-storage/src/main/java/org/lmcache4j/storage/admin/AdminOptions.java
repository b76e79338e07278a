package org.lmcache4j.storage.admin;

import java.util.Optional;

/**
 * How the admin endpoint listens.
 *
 * @param bindAddress      address to bind; loopback ({@code 127.0.0.1}) by default
 * @param port             TCP port; 0 picks a free one
 * @param bearerToken      when present, every request must carry {@code Authorization: Bearer <token>}
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
        bearerToken = bearerToken == null ? Optional.empty() : bearerToken.filter(t -> !t.isBlank());
    }

    /** Loopback, a free port, no token. */
    public static AdminOptions loopback() {
        return new AdminOptions("127.0.0.1", 0, Optional.empty(), false);
    }

    /** These options with a bearer token required. */
    public AdminOptions withBearerToken(String token) {
        return new AdminOptions(bindAddress, port, Optional.ofNullable(token), allowNonLoopback);
    }
}
