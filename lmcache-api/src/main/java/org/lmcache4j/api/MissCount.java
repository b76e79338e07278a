package org.lmcache4j.api;

/**
 * Chunks that ended a lookup's or retrieve's prefix for one reason in one tier.
 *
 * @param reason why they were not served
 * @param tier   the tier the reason concerns, or {@value #NO_TIER} when none does (e.g. {@link MissReason#ABSENT})
 * @param chunks how many so far
 */
public record MissCount(MissReason reason, String tier, long chunks) {

    /** The tier name of reasons that concern no tier. */
    public static final String NO_TIER = "none";

    public MissCount {
        if (reason == null || tier == null || tier.isBlank()) {
            throw new IllegalArgumentException("reason and tier: must be set (tier '" + tier + "')");
        }
    }
}
