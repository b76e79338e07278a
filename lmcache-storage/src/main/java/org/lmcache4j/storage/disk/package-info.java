/**
 * The disk tier ({@code file://}): {@code DiskTier} keeps one checksummed file per chunk under a local
 * directory with a hard byte budget ({@code DiskIndex}), files written and read by {@code DiskChunkFiles}
 * and {@code DiskPayloadReader} (blocks read in parallel and checksummed: {@code SharedBlockRead},
 * {@code ReadHelpers}, {@code Crc32cCombine}), the directory locked against other processes
 * ({@code DiskDirectoryLock}), scanned at open ({@code DiskDirectoryScan}) and tied to the identity of its
 * KV ({@code DiskIdentityRecord}); file system calls go through {@code DiskIo}. {@code DiskTierProvider}
 * opens it by URL. Not exported; its chunk format is the tier toolkit's ({@code org.lmcache4j.storage.tier}).
 */
package org.lmcache4j.storage.disk;
