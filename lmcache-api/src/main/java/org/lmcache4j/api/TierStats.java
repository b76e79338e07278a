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
 */
public record TierStats(String name, long chunks, long usedBytes, long capacityBytes, long errors, boolean healthy) {
}
