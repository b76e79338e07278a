package org.lmcache4j.codec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import org.junit.jupiter.api.Test;
import org.lmcache4j.api.spi.KvCodecs;

class LosslessCodecDiscoveryTest {

    @Test
    void findsBothCodecsByNameAndById() {
        assertInstanceOf(ShuffleZstdCodec.class, KvCodecs.byName("shuffle+zstd"));
        assertInstanceOf(ShuffleLz4Codec.class, KvCodecs.byName(" Shuffle+LZ4 "));
        assertInstanceOf(ShuffleLz4Codec.class, KvCodecs.byId(1));
        assertInstanceOf(ShuffleZstdCodec.class, KvCodecs.byId(2));
        assertEquals("shuffle+zstd", KvCodecs.byId(2).name());
        assertEquals(2, KvCodecs.byName("shuffle+zstd").id());
    }
}
