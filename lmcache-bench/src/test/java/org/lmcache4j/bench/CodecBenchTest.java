package org.lmcache4j.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lmcache4j.api.KvDtype;
import org.lmcache4j.api.KvLayout;
import org.lmcache4j.testing.ZeroRunsTestCodec;

/** The codec benchmark's report: every codec measured, exact round trips checked, the tier gains named. */
class CodecBenchTest {

    @TempDir
    Path dir;

    @Test
    void reportsEachCodecAndTheBestLosslessGainOfEachTier() {
        KvLayout layout = KvLayout.standard(2, 1, 64, KvDtype.BF16); // 512 bytes per token
        try (Arena arena = Arena.ofConfined()) {
            List<MemorySegment> chunks = new ArrayList<>();
            for (int c = 0; c < 4; c++) {
                MemorySegment chunk = arena.allocate(layout.chunkBytes(256));
                for (long i = c; i < chunk.byteSize(); i += 61) {
                    chunk.set(ValueLayout.JAVA_BYTE, i, (byte) (i | 1)); // mostly zeros: the test codec shrinks it
                }
                chunks.add(chunk);
            }
            Map<String, Object> out = CodecBench.run(dir, layout, chunks, line -> { }, c -> c.name().equals(ZeroRunsTestCodec.NAME));
            assertEquals(4, out.get("codec_chunks"));
            @SuppressWarnings("unchecked")
            List<Map<String, Object>> codecs = (List<Map<String, Object>>) out.get("codecs");
            assertEquals(1, codecs.size(), codecs.toString());
            assertEquals(ZeroRunsTestCodec.NAME, codecs.getFirst().get("codec"));
            assertTrue((double) codecs.getFirst().get("ratio") > 2, codecs.toString());
            assertEquals(0L, codecs.getFirst().get("chunks_stored_raw"));
            assertEquals(ZeroRunsTestCodec.NAME, out.get("disk_lossless_codec"));
            assertTrue((double) out.get("disk_lossless_effective_read_gain") > 0, out.toString());
            assertNotNull(out.get("disk_read_ms_" + ZeroRunsTestCodec.NAME), out.toString());
            assertTrue(out.containsKey("remote_lossless_effective_read_gain"), out.toString());
        }
    }
}
