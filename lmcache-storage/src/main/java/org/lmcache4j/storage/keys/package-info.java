/**
 * Chunk keys for code that has no connector: {@link org.lmcache4j.storage.keys.PrefixKeys} computes a
 * prompt's keys exactly as a connector with the same config and layout does, what a cache-aware router
 * matches against the {@link org.lmcache4j.api.ChunkEvent}s replicas publish. Exported.
 */
package org.lmcache4j.storage.keys;
