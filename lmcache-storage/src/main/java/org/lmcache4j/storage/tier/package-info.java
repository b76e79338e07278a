/**
 * The tier implementer's toolkit: what a {@link org.lmcache4j.api.spi.StorageTierProvider} in another
 * module (the Redis tier in {@code lmcache-redis}, a shared-filesystem tier) uses to store chunks the way
 * the disk tier does. {@link org.lmcache4j.storage.tier.DiskChunkFormat} is the checksummed chunk header
 * (magic, version, layout fingerprint, key, codec id, lengths, CRC32C) every persistent tier writes in front
 * of a payload; {@link org.lmcache4j.storage.tier.TierCodec} encodes the chunks a tier writes with its
 * configured codec and decodes any chunk by the codec id its header names, streaming where the codec can; {@link org.lmcache4j.storage.tier.ChunkFileNames} how a tier of one file per chunk names
 * its files (shards, suffix, temporary mark) and {@link org.lmcache4j.storage.tier.RecordText} reads and
 * writes its identity record's text; {@link org.lmcache4j.storage.tier.NestedPins} keeps a chunk's pins and
 * their latest deadline; {@link org.lmcache4j.storage.tier.CorruptChunkException} is how a decoder says a stored chunk
 * must not be served; {@link org.lmcache4j.storage.tier.HeldChunkBuffer} is a {@code ChunkBuffer} over
 * bytes a tier holds until the reader closes it; {@link org.lmcache4j.storage.tier.TierUrl} parses a tier
 * URL's path and query options, {@link org.lmcache4j.storage.tier.UrlOptions} the options alone (bytes with
 * k/m/g/t suffixes, milliseconds, bounded numbers) for a tier that parses the rest itself, with errors that
 * name the URL.
 *
 * <p>Only this package of {@code lmcache-storage}'s internals is exported for tiers; the engine stays
 * private to the module.
 */
package org.lmcache4j.storage.tier;
