package org.lmcache4j.storage.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;
import org.lmcache4j.api.KvDtype;
import org.lmcache4j.api.KvLayout;

/** The record naming where a segment's KV was computed: it reads back, and anything else reads as absent. */
class SegmentManifestTest {

    @Test
    void aRecordReadsBackAndAnyChangedByteOrAnotherLengthIsAbsent() {
        for (KvLayout layout : new KvLayout[] {KvLayout.standard(1, 1, 2, KvDtype.FP16), Engines.SMALL,
                KvLayout.standard(24, 2, 64, KvDtype.FP32)}) {
            MemorySegment m = SegmentManifest.write(layout, 1234, 77);
            assertEquals(layout.chunkBytes(SegmentManifest.tokens(layout)), m.byteSize(), "whole tokens of the layout");
            assertEquals(OptionalInt.of(1234), SegmentManifest.read(m, layout, 77));
            assertEquals(OptionalInt.empty(), SegmentManifest.read(m, layout, 78), "a segment of another length");
            for (long at = 8; at < 28; at++) {
                MemorySegment changed = MemorySegment.ofArray(m.toArray(ValueLayout.JAVA_BYTE));
                changed.set(ValueLayout.JAVA_BYTE, at, (byte) (changed.get(ValueLayout.JAVA_BYTE, at) ^ 1));
                assertEquals(OptionalInt.empty(), SegmentManifest.read(changed, layout, 77), "byte " + at + " changed");
            }
        }
    }

    /** Lossy codecs store a chunk holding a NaN raw (KvCodec's contract), so a record survives a lossy tier exactly. */
    @Test
    void theFirstElementIsNaNInEveryFloatDtype() {
        MemorySegment m = SegmentManifest.write(KvLayout.standard(1, 1, 8, KvDtype.FP32), 0, 1);
        assertTrue(Float.isNaN(m.get(ValueLayout.JAVA_FLOAT_UNALIGNED, 0)), "fp32");
        short half = m.get(ValueLayout.JAVA_SHORT_UNALIGNED, 0);
        assertTrue(Float.isNaN(Float.float16ToFloat(half)), "fp16");
        assertTrue(Float.isNaN(Float.intBitsToFloat(half << 16)), "bf16");
        assertEquals((byte) 0xFF, m.get(ValueLayout.JAVA_BYTE, 0), "fp8 e4m3 and e5m2: 0xFF is NaN in both");
    }
}
