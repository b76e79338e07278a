package org.lmcache4j.examples.gguf;

import java.io.IOException;

/** Encodes rows as ggml's Q8_0: blocks of 32 values, an F16 scale {@code max|x| / 127} and 32 signed bytes. */
final class Q8Encoder {

    private Q8Encoder() {
    }

    static void encodeRow(float[] row, GgufWriter.Sink out) throws IOException {
        for (int b = 0; b < row.length; b += 32) {
            float amax = 0;
            for (int i = 0; i < 32; i++) {
                amax = Math.max(amax, Math.abs(row[b + i]));
            }
            float d = amax / 127f;
            float id = d != 0 ? 1f / d : 0f;
            out.i16(Float.floatToFloat16(d));
            for (int i = 0; i < 32; i++) {
                out.i8((byte) Math.round(row[b + i] * id));
            }
        }
    }
}
