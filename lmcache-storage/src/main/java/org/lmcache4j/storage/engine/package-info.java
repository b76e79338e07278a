/**
 * The cache engine: {@code TieredCacheEngine} implements {@link org.lmcache4j.api.KvConnector} over a stack
 * of tiers, fastest first ({@code TierStack}, every tier behind a {@code GuardedTier}), and is found by
 * {@code ServiceLoader} through {@link org.lmcache4j.storage.engine.TieredConnectorProvider}. Internal to the
 * module: not exported.
 *
 * <p>The store path, from {@code KvConnector.store} to the bytes in a tier, reads in three files:
 * <ol>
 *   <li>{@code engine/TieredCacheEngine.java}: {@code store} checks the arguments, hashes the prompt lazily
 *       ({@code hash/PromptChunks}) and calls {@code PromptStore.store} under the open guard
 *       ({@code storeAsync} runs the same call on {@code StoreQueue}'s thread);</li>
 *   <li>{@code engine/PromptStore.java}: for each new chunk of the prompt, reserves a page in the cpu tier,
 *       gathers the chunk's KV straight from engine memory into it ({@code copy/EngineKvCopier}), commits it
 *       and queues it to be written behind ({@code TierStack.writeBehind});</li>
 *   <li>{@code cpu/CpuTier.java}: {@code reserve} and {@code commit}, the page published under its key.</li>
 * </ol>
 * Behind the store, {@code WriteBehind}'s thread puts each chunk into every slower tier ({@code
 * disk/DiskTier.put}, a remote or shared-filesystem tier of another module) through its {@code GuardedTier};
 * without a cpu tier, {@code PromptStore} puts straight into them ({@code TierStack.putSlower}).
 *
 * <p>The rest of the package: lookups and retrieves walk the prompt's chunks ({@code PrefixWalk},
 * {@code RemoteLookup}, {@code RemoteReadAhead}, {@code LoadBudget}, {@code Prefetcher}); pins
 * ({@code PinTable}, {@code ChunkPins}); misses explained ({@code MissClassifier}, {@code MissNote},
 * {@code Departures}, {@code LookupExplainer}); events and counters ({@code KvEvents},
 * {@code ConnectorCounters}); the tiers a config names ({@code ConfiguredTiers}, {@code RefusedTier}).
 */
package org.lmcache4j.storage.engine;
