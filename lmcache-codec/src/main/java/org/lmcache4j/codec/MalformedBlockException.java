package org.lmcache4j.codec;

/**
 * A compression library found that a block's stored bytes are not a block it can decompress: the codec
 * reports it as a {@link org.lmcache4j.api.spi.CorruptEncodingException} naming the block and its lengths.
 */
final class MalformedBlockException extends Exception {

    private static final long serialVersionUID = 1L;

    /** @param cause the library's own failure, its message saying what it found */
    MalformedBlockException(RuntimeException cause) {
        super(cause.getMessage(), cause);
    }

    /** @param message what the library reported */
    MalformedBlockException(String message) {
        super(message);
    }
}
