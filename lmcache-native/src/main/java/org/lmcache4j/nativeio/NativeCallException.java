package org.lmcache4j.nativeio;

/** A libc call returned failure; carries the call, the {@code errno} and its text. */
public final class NativeCallException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final int errno;

    NativeCallException(String call, int errno, String text) {
        super(call + " failed: errno " + errno + " (" + text + ")");
        this.errno = errno;
    }

    /** The {@code errno} captured right after the call. */
    public int errno() {
        return errno;
    }
}
