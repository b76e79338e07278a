package org.lmcache4j.storage;

import java.util.Optional;

/**
 * A tier whose stored KV carries a recorded cache identity, and that refuses to serve KV recorded under
 * another one. While it refuses, every chunk is a miss of reason
 * {@link org.lmcache4j.api.MissReason#IDENTITY_MISMATCH}.
 */
interface IdentityChecked {

    /** Empty while the tier serves; else why it refuses (where, and which fields differ). */
    Optional<String> identityMismatch();
}
