package org.lmcache4j.api;

/**
 * One tier's occupancy and health at a moment.
 *
 * @param name          tier name ({@code cpu}, {@code disk}, {@code remote})
 * @param chunks        chunks held
 * @param usedBytes     bytes held, counted as the tier charges them against its budget
 * @param capacityBytes the tier's byte budget
 * @param errors        operations that failed inside the tier and were turned into misses
 * @param healthy       false while the tier is failing
 * @param lossyChunksServed chunks this tier served that a lossy codec had stored (int8, fp8-e4m3): their KV
 *                      is close to, not equal to, what was stored; 0 in a tier without a lossy codec
 */
public record TierStats(String name, long chunks, long usedBytes, long capacityBytes, long errors, boolean healthy,
                        long lossyChunksServed) {

    /** Stats of a tier that served no lossy chunk. */
    public TierStats(String name, long chunks, long usedBytes, long capacityBytes, long errors, boolean healthy) {
        this(name, chunks, usedBytes, capacityBytes, errors, healthy, 0);
    }
}
