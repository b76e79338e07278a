/**
 * The cpu tier ({@code cpu://}): {@code CpuTier} keeps chunks in reference-counted {@code ChunkPage}s that
 * {@code PinnedSlabAllocator} carves from resident off-heap slabs, with a hard byte budget, LRU eviction
 * ({@code EvictionListener} hears of each) and pins; {@code CpuTierProvider} opens it by URL. The engine
 * reserves and commits pages here directly, so they are public to the module; not exported.
 */
package org.lmcache4j.storage.cpu;
