/**
 * The node-shared pool: {@link org.lmcache4j.pool.PoolCoordinator} (the node's one owner of slots and index) and
 * the {@code pool://} tier its engines use ({@link org.lmcache4j.pool.SharedPoolTierProvider}).
 */
package org.lmcache4j.pool;
