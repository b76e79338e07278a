package org.lmcache4j.storage.tier;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;

/**
 * The text of a small record file (a tier directory's identity record): read whole with a bound, or
 * written whole and forced to the device. The caller opens the channel, so a tier that routes its file
 * access through its own layer (for fault injection) keeps doing so.
 */
public final class RecordText {

    private RecordText() {
    }

    /**
     * The channel's whole content as UTF-8, or, when the file is larger than {@code maxBytes}, a
     * placeholder naming its size (a record is never that large: whatever it is, it is not ours).
     */
    public static String read(FileChannel ch, long maxBytes) throws IOException {
        long size = ch.size();
        if (size > maxBytes) {
            return "(a file of " + size + " bytes)";
        }
        ByteBuffer buf = ByteBuffer.allocate((int) size);
        while (buf.hasRemaining() && ch.read(buf) >= 0) {
            // read to the end
        }
        return new String(buf.array(), 0, buf.position(), StandardCharsets.UTF_8);
    }

    /** Writes {@code text} as UTF-8 from the channel's position and forces it, metadata included. */
    public static void writeForced(FileChannel ch, String text) throws IOException {
        ByteBuffer buf = ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8));
        while (buf.hasRemaining()) {
            ch.write(buf);
        }
        ch.force(true);
    }
}
