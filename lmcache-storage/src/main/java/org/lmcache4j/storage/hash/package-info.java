/**
 * Chained chunk hashing: {@code ChunkHasher} (SHA-256 or XXH3-128, the namespace folded into the root) and
 * {@code PromptChunks}, one prompt's chunks and their keys, hashed lazily; {@code HasherWarmUp}, which gets the hasher compiled at open. A persistent format: keys name
 * files on disk and values in a remote store. Internal to the module: the engine and
 * {@link org.lmcache4j.storage.keys.PrefixKeys} use it; not exported.
 */
package org.lmcache4j.storage.hash;
