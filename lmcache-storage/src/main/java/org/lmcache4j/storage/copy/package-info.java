/**
 * Copies between engine KV memory and chunk buffers: {@code EngineKvCopier} for one call's memory,
 * {@code HostKvCopier} (the host copy engine) on {@code CopyLanes}' threads for host KV, and the device
 * copy engines of other modules ({@link org.lmcache4j.api.spi.DeviceCopyEngine}, found by
 * {@code DeviceCopiers}) for device KV. Internal to the module: not exported.
 */
package org.lmcache4j.storage.copy;
