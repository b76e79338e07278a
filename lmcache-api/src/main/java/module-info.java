/**
 * Public types and SPIs of lmcache4j: what an inference engine calls ({@link org.lmcache4j.api.KvConnector})
 * and what storage and copy back ends implement ({@link org.lmcache4j.api.spi}).
 */
module org.lmcache4j.api {
    exports org.lmcache4j.api;
    exports org.lmcache4j.api.spi;

    uses org.lmcache4j.api.spi.KvConnectorProvider;
    uses org.lmcache4j.api.spi.StorageTierProvider;
    uses org.lmcache4j.api.spi.KvCodec;
}
