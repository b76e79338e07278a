package org.lmcache4j.redis;

/** The remote tier passes the StorageTier contract with LZ4 compression of its parts too. */
class RemoteTierLz4ContractTest extends RemoteTierContractTest {

    @Override
    String options() {
        return "&compression=lz4";
    }
}
