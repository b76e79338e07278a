/**
 * KV codecs for the slower tiers, provided through {@link org.lmcache4j.api.spi.KvCodec} and found by
 * name with {@link org.lmcache4j.api.spi.KvCodecs}: lossless {@code shuffle+lz4} and {@code shuffle+zstd}
 * (each element's bytes regrouped into planes, then compressed) and {@code shuffle+nibble} (each element's
 * high byte coded in four bits), and the opt-in lossy {@code int8} and
 * {@code fp8-e4m3}. Exports nothing.
 */
module org.lmcache4j.codec {
    requires org.lmcache4j.api;
    requires com.github.luben.zstd_jni;
    requires org.lz4.java;
    requires org.slf4j;
    // the shuffle+nibble decoder's fast kernel, used only when the JVM has the module (--add-modules jdk.incubator.vector)
    requires static jdk.incubator.vector;

    provides org.lmcache4j.api.spi.KvCodec with
            org.lmcache4j.codec.ShuffleLz4Codec,
            org.lmcache4j.codec.ShuffleZstdCodec,
            org.lmcache4j.codec.ShuffleNibbleCodec,
            org.lmcache4j.codec.Int8Codec,
            org.lmcache4j.codec.Fp8E4m3Codec;
}
