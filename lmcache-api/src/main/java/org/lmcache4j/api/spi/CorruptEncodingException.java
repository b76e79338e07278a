package org.lmcache4j.api.spi;

/**
 * Bytes a {@link KvCodec} was asked to decode are not an encoding it made: a tier treats the chunk as
 * corrupt (a miss, the stored copy dropped), never as data.
 */
public class CorruptEncodingException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /** @param message what is wrong, with the codec's name and the lengths involved */
    public CorruptEncodingException(String message) {
        super(message);
    }

    /** As {@link #CorruptEncodingException(String)}, with the decoder's own failure. */
    public CorruptEncodingException(String message, Throwable cause) {
        super(message, cause);
    }
}
