package org.lmcache4j.storage.disk;

/**
 * A persistent or shared tier holds KV recorded under another cache identity than the connector's
 * (another model, layout, chunk size, hash, tenant or rank), or KV of no recorded identity: the tier
 * must not serve it. The message names the place and the fields that differ.
 */
final class IdentityMismatchException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    IdentityMismatchException(String message) {
        super(message);
    }
}
